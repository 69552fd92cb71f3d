/** Recognizing the Secrets Store CSI driver and the AWS provider among a node's pods. */
import type { V1PodSpec } from './kube';

export const PROVIDER_DIRS = ['/var/run/secrets-store-csi-providers', '/etc/kubernetes/secrets-store-csi-providers'];

export type Role = 'driver' | 'provider';

/** Is a pod spec the driver's (image or args name the driver, or it defines the provider volume) or a provider's. */
export function roleOf(spec: V1PodSpec | undefined, labels: Record<string, string> = {}): Role | undefined {
  const containers = spec?.containers ?? [];
  const images = containers.map((c) => c.image ?? '').join(' ');
  const args = containers.flatMap((c) => [...(c.args ?? []), ...(c.command ?? [])]).join(' ');
  if (labels.app === 'secrets-store-csi-driver' || /secrets-store-csi-driver(:|@|\s|$)|csi-secrets-store\/driver:/.test(images) || args.includes('--provider-volume')) return 'driver';
  const providerLabel = /provider-aws|secrets-store-provider/.test(labels.app ?? '') || /provider-aws|secrets-store-provider/.test(labels['app.kubernetes.io/name'] ?? '');
  const mountsProviderDir = (spec?.volumes ?? []).some((v) => PROVIDER_DIRS.includes(v.hostPath?.path ?? ''));
  return providerLabel || mountsProviderDir || /provider-aws/.test(images) ? 'provider' : undefined;
}
