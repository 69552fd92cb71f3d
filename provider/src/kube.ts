// The Kubernetes side of the provider. Everything else sees the ClusterReader
// interface, so unit tests use fakes. The client itself (@kubernetes/client-node,
// ESM-only and large) lives in kube-client.mts, which provider/build.mjs bundles
// separately as dist/kube-client.js; it is loaded on the first read, which keeps
// start-up fast and idle memory low.
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

  public async pod(namespace: string, name: string): Promise<{ readonly nodeName?: string } | undefined> {
    const pod = await orUndefined((await this.client()).readNamespacedPod({ namespace, name }));
    return pod ? { nodeName: pod.spec?.nodeName } : undefined;
  }

  public async nodeLabels(name: string): Promise<Record<string, string> | undefined> {
    const node = await orUndefined((await this.client()).readNode({ name }));
    return node ? (node.metadata?.labels ?? {}) : undefined;
  }

  private client(): Promise<CoreV1Api> {
    // A failed load or config is not cached: the next read tries again.
    this.api ??= import('./kube-client.mjs').then((m) => m.connectCoreV1()).catch((err) => {
      this.api = undefined;
      throw err;
    });
    return this.api;
  }
}
