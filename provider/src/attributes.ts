import { status } from '@grpc/grpc-js';
import { MountError } from './errors';

/** The driver's attribute keys (pod identity of the mount). */
export const POD_NAME = 'csi.storage.k8s.io/pod.name';
export const POD_NAMESPACE = 'csi.storage.k8s.io/pod.namespace';
export const POD_UID = 'csi.storage.k8s.io/pod.uid';
export const SERVICE_ACCOUNT = 'csi.storage.k8s.io/serviceAccount.name';
export const SERVICE_ACCOUNT_TOKENS = 'csi.storage.k8s.io/serviceAccount.tokens';
export const CLASS_NAME = 'secretProviderClass';

/** The MountRequest fields, as proto-loader hands them over (camelCase). */
export interface MountRequestMessage {
  readonly attributes?: string;
  readonly secrets?: string;
  readonly targetPath?: string;
  readonly permission?: string;
  readonly currentObjectVersion?: ReadonlyArray<{ readonly id?: string; readonly version?: string }>;
}

/** A MountRequest after decoding its JSON fields. */
export interface ParsedRequest {
  /** Every attribute: class parameters plus the driver's pod attributes. */
  readonly attributes: Record<string, string>;
  readonly pod: PodRef;
  readonly targetPath: string;
  /** Default file mode (decimal), from `permission`. */
  readonly defaultMode: number;
  /** File name -> version the driver holds (older drivers send these on remounts). */
  readonly currentVersions: ReadonlyMap<string, string>;
}

/** Who the mount is for. */
export interface PodRef {
  readonly name: string;
  readonly namespace: string;
  readonly uid?: string;
  readonly serviceAccount: string;
  readonly className?: string;
}

function invalid(message: string): MountError {
  return new MountError(status.INVALID_ARGUMENT, message, 'InvalidRequest');
}

/** Decodes `attributes`: a JSON object of strings. */
function parseAttributes(text: string | undefined): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(text || 'null');
  } catch {
    throw invalid('MountRequest.attributes is not valid JSON. Fix: this comes from the CSI driver; check its version.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('MountRequest.attributes is not a JSON object. Fix: this comes from the CSI driver; check its version.');
  }
  const bad = Object.entries(value).find(([, v]) => typeof v !== 'string');
  if (bad) throw invalid(`MountRequest attribute "${bad[0]}" is not a string. Fix: quote the value in the SecretProviderClass parameters.`);
  return value as Record<string, string>;
}

/** Decodes `permission`: a JSON number 0..511 (decimal file mode). */
function parsePermission(text: string | undefined): number {
  const mode = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw invalid(`MountRequest.permission is "${text ?? ''}", not a file mode between 0 and 511. Fix: this comes from the CSI driver; check its version.`);
  }
  return mode;
}

function requireAttribute(attributes: Record<string, string>, key: string): string {
  const value = attributes[key];
  if (!value) throw invalid(`MountRequest attribute "${key}" is missing. Fix: this comes from the CSI driver; check its version.`);
  return value;
}

/** Decodes and checks the request envelope (not the class: lib/contract does that). */
export function parseRequest(request: MountRequestMessage): ParsedRequest {
  const attributes = parseAttributes(request.attributes);
  const targetPath = request.targetPath ?? '';
  if (!targetPath.startsWith('/')) {
    throw invalid(`MountRequest.target_path is "${targetPath}", not an absolute path. Fix: this comes from the CSI driver; check its version.`);
  }
  const pod: PodRef = {
    name: requireAttribute(attributes, POD_NAME),
    namespace: requireAttribute(attributes, POD_NAMESPACE),
    uid: attributes[POD_UID],
    serviceAccount: requireAttribute(attributes, SERVICE_ACCOUNT),
    className: attributes[CLASS_NAME],
  };
  const currentVersions = new Map<string, string>();
  for (const v of request.currentObjectVersion ?? []) if (v.id) currentVersions.set(v.id, v.version ?? '');
  return { attributes, pod, targetPath, defaultMode: parsePermission(request.permission), currentVersions };
}
