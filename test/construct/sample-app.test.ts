import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parse } from 'yaml';
import { kubernetesObjects, manifestIdOf, TEST_CONTEXT, withoutBookkeeping } from './util';
import { SampleStack } from '../../examples/sample-stack';
import { WorkloadIdentity } from '../../lib';
import { writeUp } from '../support/write-up';


// GIVEN the sample app, synthesized once for the whole file (IRSA, its own cluster)
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sample-'));
const app = new App({ context: TEST_CONTEXT, outdir });
const stack = new SampleStack(app, 'SecretsStoreSample');
const assembly = app.synth();
const template = Template.fromStack(stack);
const objects = kubernetesObjects(template);
const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

describe('sample app manifests', () => {
  test('the SecretProviderClass means the same as the shared example', () => {
    const expected = writeUp('secret-provider-class.yaml');
    const actual = withoutBookkeeping(find('SecretProviderClass', 'aws-secrets'));

    expect(actual.apiVersion).toBe(expected.apiVersion);
    expect(actual.metadata).toEqual({ ...expected.metadata, namespace: 'default' });
    expect(actual.spec.provider).toBe('aws');
    expect(Object.keys(actual.spec.parameters)).toEqual(Object.keys(expected.spec.parameters));
    // objects is one YAML string; compare what it says, not its quoting
    expect(parse(actual.spec.parameters.objects)).toEqual(parse(expected.spec.parameters.objects));
  });

  test('the pod means the same as the shared example and runs as the IRSA service account', () => {
    const expected = writeUp('pod.yaml');
    const actual = withoutBookkeeping(find('Pod', 'my-app'));

    expect(actual.apiVersion).toBe('v1');
    expect(actual.metadata.name).toBe(expected.metadata.name);
    expect(actual.spec.volumes).toEqual(expected.spec.volumes);
    expect(actual.spec.containers).toHaveLength(1);
    expect(actual.spec.containers[0]).toMatchObject(expected.spec.containers[0]);
    expect(actual.spec.serviceAccountName).toBe('my-app');
  });

  test('the service account is annotated with the workload role', () => {
    const sa = find('ServiceAccount', 'my-app');
    const roleId = stack.getLogicalId(stack.node.findChild('SecretsStore').node.findChild('MyApp').node.findChild('Role').node.defaultChild as any);
    expect(sa.metadata.namespace).toBe('default');
    expect(sa.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': `<${roleId}.Arn>` });
  });
});

describe('sample app resources', () => {
  test('installs the add-on with token audiences, rotation and sync settings', () => {
    template.hasResourceProperties('AWS::EKS::Addon', {
      AddonName: 'aws-secrets-store-csi-driver-provider',
      ResolveConflicts: 'OVERWRITE',
    });
    const addon = Object.values(template.findResources('AWS::EKS::Addon'))
      .find((r: any) => r.Properties.AddonName === 'aws-secrets-store-csi-driver-provider') as any;
    expect(JSON.parse(addon.Properties.ConfigurationValues)).toEqual({
      'secrets-store-csi-driver': {
        tokenRequests: [{ audience: 'sts.amazonaws.com' }, { audience: 'pods.eks.amazonaws.com' }],
        syncSecret: { enabled: false },
        enableSecretRotation: false,
      },
    });
  });

  test('creates the secret my-db-password and grants exactly it', () => {
    const secrets = template.findResources('AWS::SecretsManager::Secret', { Properties: { Name: 'my-db-password' } });
    const secretId = Object.keys(secrets)[0];
    expect(secretId).toBeDefined();
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [{ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Effect: 'Allow', Resource: { Ref: secretId } }],
      },
    });
  });

  test('the workload role trusts the cluster OIDC provider for this service account and audience', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringEquals: { 'Fn::GetAtt': [Match.stringLikeRegexp('TrustConditions'), 'Value'] } },
        })],
      },
    });
    const json = Object.values(template.findResources('Custom::AWSCDKCfnJson'))[0] as any;
    const rendered = JSON.stringify(json.Properties.Value);
    expect(rendered).toContain(':aud\\":\\"sts.amazonaws.com');
    expect(rendered).toContain(':sub\\":\\"system:serviceaccount:default:my-app');
  });

  test('applies install, service account, class and workload in that order', () => {
    const resources = template.toJSON().Resources;
    const dependsOn = (id: string): string[] => resources[id].DependsOn ?? [];
    const addonId = Object.keys(template.findResources('AWS::EKS::Addon'))[0];
    const saId = manifestIdOf(template, 'ServiceAccount', 'my-app');
    const classId = manifestIdOf(template, 'SecretProviderClass', 'aws-secrets');
    const podId = manifestIdOf(template, 'Pod', 'my-app');

    expect(dependsOn(saId)).toContain(addonId);
    expect(dependsOn(classId)).toEqual(expect.arrayContaining([addonId, saId]));
    expect(dependsOn(classId).some((d) => d.includes('MyAppRoleDefaultPolicy'))).toBe(true);
    expect(dependsOn(podId)).toContain(classId);
  });

  test('no secret or parameter read action has a wildcard resource', () => {
    const reads = /^(secretsmanager:(GetSecretValue|DescribeSecret)|ssm:GetParameters?|kms:Decrypt)$/;
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy')) as any[]) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        const actions = [statement.Action].flat();
        if (actions.some((a: string) => reads.test(a))) {
          expect([statement.Resource].flat()).not.toContain('*');
        }
      }
    }
  });
});

describe('checks on the sample stack', () => {
  test('cdk-nag AwsSolutions: no unacknowledged finding, and each acknowledgement has a reason and one finding', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath)}`)).toEqual([]);

    const acks = stack.node.findAll().flatMap((c) => c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>)));
    expect(acks.length).toBeGreaterThan(0);
    for (const [id, reason] of acks) {
      // one finding per acknowledgement: a rule id, and for multi-finding rules one [finding]
      expect(id).toMatch(/^(Annotation::)?AwsSolutions-[A-Z]+\d+(\[.+\])?$/i);
      expect(reason.length).toBeGreaterThan(20);
    }
    expect(acks.map(([id]) => id.replace(/^annotation::/i, ''))).toContain('AwsSolutions-IAM5[Resource::*]');
  });

  test('cfn-lint finds no errors in the synthesized template', () => {
    const version = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
    if (version.error || version.status !== 0) {
      throw new Error('cfn-lint is not installed or not on PATH. Fix: pip install cfn-lint (from PyPI), then rerun the tests.');
    }
    const file = path.join(assembly.directory, assembly.getStackByName(stack.stackName).templateFile);
    const run = spawnSync('cfn-lint', ['--format', 'parseable', file], { encoding: 'utf8' });
    const errors = run.stdout.split('\n').filter((line) => /:E\d+:/.test(line));
    expect(errors).toEqual([]);
    expect(run.status === 0 || errors.length === 0).toBe(true);
  });
});

describe('sample app with Pod Identity', () => {
  // GIVEN the same app with the identity context flag
  const piApp = new App({ context: { ...TEST_CONTEXT } });
  const piStack = new SampleStack(piApp, 'SecretsStoreSamplePodIdentity', { identity: WorkloadIdentity.POD_IDENTITY });
  const piTemplate = Template.fromStack(piStack);
  const piObjects = kubernetesObjects(piTemplate);

  test('the role trusts EKS Pod Identity with session tags and is associated with the service account', () => {
    piTemplate.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: ['sts:AssumeRole', 'sts:TagSession'], Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' } }],
      },
    });
    piTemplate.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'default', ServiceAccount: 'my-app' });
    piTemplate.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'eks-pod-identity-agent' });
  });

  test('the class sets usePodIdentity and the service account has no IRSA annotation', () => {
    const spc = piObjects.find((o) => o.kind === 'SecretProviderClass');
    const sa = piObjects.find((o) => o.kind === 'ServiceAccount');
    expect(spc.spec.parameters.usePodIdentity).toBe('true');
    expect(sa.metadata.annotations).toBeUndefined();
  });
});
