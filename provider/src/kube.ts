// The only module that loads @kubernetes/client-node. Everything else sees the
// ClusterReader interface, so unit tests use fakes. The client is loaded on the
// first read (a dynamic import: the package is ESM-only and large; esbuild
// inlines it but runs its initialisation only then), which keeps start-up fast
// and idle memory low for providers that never need the Kubernetes API.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CoreV1Api } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { ClusterReader } from './cluster';

function isNotFound(err: unknown): boolean {
  const e = err as any;
  return e?.code === 404 || e?.statusCode === 404 || e?.response?.statusCode === 404 || e?.body?.code === 404;
}

async function orUndefined<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Checks at start-up what can be checked without loading the client: every
 * file named by KUBECONFIG exists. Throws a message naming the bad file.
 */
export function checkKubeconfig(env: NodeJS.ProcessEnv = process.env): void {
  for (const file of (env.KUBECONFIG ?? '').split(path.delimiter).filter(Boolean)) {
    if (!fs.existsSync(file)) throw new Error(`KUBECONFIG names ${file}, which does not exist. Fix: point KUBECONFIG at a kubeconfig file, or unset it to use the in-cluster service account.`);
  }
}

/** Reads through the API server named by KUBECONFIG, else the in-cluster service account. */
export class KubeClusterReader implements ClusterReader {
  private api?: Promise<CoreV1Api>;

  public async serviceAccountAnnotations(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const sa = await orUndefined((await this.client()).readNamespacedServiceAccount({ namespace, name }));
    return sa ? (sa.metadata?.annotations ?? {}) : undefined;
  }

  public async podNodeName(namespace: string, name: string): Promise<string | undefined> {
    const pod = await orUndefined((await this.client()).readNamespacedPod({ namespace, name }));
    return pod?.spec?.nodeName;
  }

  public async nodeLabels(name: string): Promise<Record<string, string> | undefined> {
    const node = await orUndefined((await this.client()).readNode({ name }));
    return node ? (node.metadata?.labels ?? {}) : undefined;
  }

  private client(): Promise<CoreV1Api> {
    this.api ??= import('@kubernetes/client-node').then(({ CoreV1Api: Api, KubeConfig }) => {
      const config = new KubeConfig();
      config.loadFromDefault();
      return config.makeApiClient(Api);
    });
    return this.api;
  }
}
