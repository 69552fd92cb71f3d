// The Kubernetes client, built as a bundle of its own (provider/dist/kube-client.js)
// that main.js loads on the first Kubernetes read: code in a bundle costs memory
// even when it never runs, and the client is most of the provider's code.
// An ES module (.mts) so the ESM-only package is imported statically, which lets
// esbuild keep only what KubeConfig and CoreV1Api use. The deep imports (the
// modules the package's index re-exports these from) also leave out the
// exec/attach/cp/watch helpers that the index pulls in with side effects: about
// 110 KB of bundle and 2 MB of RSS. If the package's layout changes, the build fails.
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { ObjectCoreV1Api as CoreV1Api } from '@kubernetes/client-node/dist/gen/types/ObjectParamAPI.js';

/** A CoreV1 client for the API server named by KUBECONFIG, else the in-cluster service account. */
export function connectCoreV1(): CoreV1Api {
  const config = new KubeConfig();
  config.loadFromDefault();
  return config.makeApiClient(CoreV1Api);
}
