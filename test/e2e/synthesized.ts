/**
 * Reading the synthesized cloud assembly (the only source of truth of the
 * end-to-end flow): the stack's template, CloudFormation intrinsics resolved
 * against physical values, and the Kubernetes objects of its manifests.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Manifest } from 'aws-cdk-lib/cloud-assembly-schema';

export interface Template {
  readonly Resources: Record<string, { Type: string; Properties?: Record<string, any>; Metadata?: Record<string, any> }>;
  readonly Outputs?: Record<string, { Value: unknown }>;
}

/** The resource type of CDK's Kubernetes manifests (aws-eks-v2 KubernetesManifest). */
export const MANIFEST_TYPE = 'Custom::AWSCDK-EKS-KubernetesResource';

/** The template of stack `stackName` in the cloud assembly at `outDir` (via its manifest.json). */
export function loadTemplate(outDir: string, stackName: string): Template {
  const manifest = Manifest.loadAssemblyManifest(path.join(outDir, 'manifest.json'));
  const artifact = manifest.artifacts?.[stackName];
  const templateFile = (artifact?.properties as { templateFile?: string } | undefined)?.templateFile;
  if (artifact?.type !== 'aws:cloudformation:stack' || !templateFile) {
    throw new Error(`The cloud assembly in ${outDir} has no stack "${stackName}" (artifacts: ${Object.keys(manifest.artifacts ?? {}).join(', ')}).`);
  }
  return JSON.parse(fs.readFileSync(path.join(outDir, templateFile), 'utf8'));
}

/** Values for `Ref` and `Fn::GetAtt` (deployed resources, pseudo parameters, or placeholders). */
export interface PhysicalValues {
  ref(logicalId: string): string;
  getAtt(logicalId: string, attribute: string): unknown;
}

/** Pseudo parameters for an environment-agnostic template. */
export function pseudoParameters(region: string, account: string): Record<string, string> {
  return { 'AWS::Region': region, 'AWS::AccountId': account, 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com', 'AWS::NoValue': '' };
}

/** Placeholders (`${Logical}` / `${Logical.Attr}`) instead of values: for reading what the template refers to. */
export const PLACEHOLDERS: PhysicalValues = {
  ref: (id) => `\${${id}}`,
  getAtt: (id, attribute) => `\${${id}.${attribute}}`,
};

/** Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split and Fn::Sub in `value`. */
export function resolve(value: unknown, physical: PhysicalValues): any {
  if (Array.isArray(value)) return value.map((v) => resolve(v, physical));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const [key, arg] = entries[0] ?? [];
  if (entries.length === 1 && (key === 'Ref' || key.startsWith('Fn::'))) return intrinsic(key, arg, physical);
  return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v, physical)]));
}

function intrinsic(name: string, arg: any, physical: PhysicalValues): any {
  switch (name) {
    case 'Ref':
      return physical.ref(arg);
    case 'Fn::GetAtt': {
      const [id, ...attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
      return physical.getAtt(id, attribute.join('.'));
    }
    case 'Fn::Join': {
      const [separator, parts] = arg;
      return (resolve(parts, physical) as unknown[]).map(String).join(separator);
    }
    case 'Fn::Select': {
      const [index, list] = resolve(arg, physical);
      return list[Number(index)];
    }
    case 'Fn::Split': {
      const [separator, text] = resolve(arg, physical);
      return String(text).split(separator);
    }
    case 'Fn::Sub':
      return substitute(arg, physical);
    default:
      throw new Error(`The template uses ${name}, which the end-to-end resolver does not handle; extend test/e2e/synthesized.ts.`);
  }
}

function substitute(arg: string | [string, Record<string, unknown>], physical: PhysicalValues): string {
  const [text, variables] = Array.isArray(arg) ? arg : [arg, {}];
  return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
    if (name in variables) return String(resolve(variables[name], physical));
    const [id, ...attribute] = name.split('.');
    return String(attribute.length ? physical.getAtt(id, attribute.join('.')) : physical.ref(id));
  });
}

/** A Kubernetes object of a manifest, with the manifest's logical id. */
export interface KubeObject {
  readonly manifestId: string;
  readonly object: any;
}

/** Every Kubernetes object of every manifest resource, resolved with `physical`. */
export function kubernetesObjects(template: Template, physical: PhysicalValues): KubeObject[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === MANIFEST_TYPE)
    .flatMap(([manifestId, r]) => (JSON.parse(resolve(r.Properties!.Manifest, physical)) as any[]).map((object) => ({ manifestId, object })));
}

/** The one object of this kind and name (namespace `default` when the object has none); a clear error otherwise. */
export function findObject(objects: readonly KubeObject[], kind: string, name: string, namespace = 'default'): KubeObject {
  const found = objects.filter((o) => o.object.kind === kind && o.object.metadata?.name === name
    && (o.object.metadata?.namespace ?? 'default') === namespace);
  if (found.length !== 1) {
    throw new Error(`Expected one ${kind} ${namespace}/${name} in the synthesized manifests, found ${found.length}.`);
  }
  return found[0];
}

/** The logical ids of resources of `type` whose properties satisfy `where`. */
export function resourcesOfType(template: Template, type: string, where: (props: Record<string, any>) => boolean = () => true): string[] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type && where(r.Properties ?? {})).map(([id]) => id);
}
