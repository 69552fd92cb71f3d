/**
 * Step 1: the driver and an AWS provider run and are Ready on the pod's node;
 * when one is missing, the DaemonSets say why (Fargate, node selector, taints).
 */
import type { V1DaemonSet, V1Node, V1Pod } from '../kube';
import { Check, CheckResult, fail, pass, skip } from '../types';
import { Role, roleOf } from '../workloads';

const isReady = (pod: V1Pod): boolean =>
  pod.status?.phase === 'Running' && (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

const podName = (pod: V1Pod): string => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

/** Why a DaemonSet places no pod on the node, or undefined when it should. */
export function whyNotScheduled(ds: V1DaemonSet, node: V1Node): string | undefined {
  const labels = node.metadata?.labels ?? {};
  const spec = ds.spec?.template?.spec;
  const dsName = `DaemonSet ${ds.metadata?.namespace}/${ds.metadata?.name}`;
  const selector = Object.entries(spec?.nodeSelector ?? {}).filter(([k, v]) => labels[k] !== v);
  if (selector.length) return `${dsName} has nodeSelector ${selector.map(([k, v]) => `${k}=${v}`).join(',')}, which node ${node.metadata?.name} does not match`;
  const untolerated = (node.spec?.taints ?? []).filter((t) => t.effect !== 'PreferNoSchedule' && !(spec?.tolerations ?? []).some((tol) =>
    (tol.operator === 'Exists' && (!tol.key || tol.key === t.key)) || (tol.key === t.key && (tol.value ?? '') === (t.value ?? ''))));
  if (untolerated.length) return `${dsName} does not tolerate the node's taint ${untolerated.map((t) => `${t.key}=${t.value ?? ''}:${t.effect}`).join(', ')}`;
  return undefined;
}

async function checkRole(role: Role, pods: V1Pod[], daemonSets: V1DaemonSet[], node: V1Node): Promise<CheckResult> {
  const nodeName = node.metadata?.name;
  const mine = pods.filter((p) => roleOf(p.spec, p.metadata?.labels) === role);
  const ready = mine.find(isReady);
  if (ready) return pass(`${role} pod ${podName(ready)} is Ready on node ${nodeName}`);
  if (mine.length) {
    const p = mine[0];
    const waiting = (p.status?.containerStatuses ?? []).map((c) => c.state?.waiting?.reason).filter(Boolean).join(', ');
    return fail(`${role} pod ${podName(p)} on node ${nodeName} is not Ready (phase ${p.status?.phase}${waiting ? `, ${waiting}` : ''})`,
      `Read its logs: kubectl logs -n ${p.metadata?.namespace} ${p.metadata?.name} --all-containers`);
  }
  return fail(`no ${role} pod runs on node ${nodeName}`, explainMissing(role, daemonSets, node));
}

function explainMissing(role: Role, daemonSets: V1DaemonSet[], node: V1Node): string {
  const what = role === 'driver' ? 'the Secrets Store CSI driver' : 'the AWS provider';
  if (node.metadata?.labels?.['eks.amazonaws.com/compute-type'] === 'fargate') {
    return `Node ${node.metadata?.name} is a Fargate node, where DaemonSets and CSI drivers cannot run: schedule the pod on EC2 nodes (or Auto Mode nodes), or read the secret from the application.`;
  }
  const ds = daemonSets.filter((d) => roleOf(d.spec?.template?.spec, d.spec?.template?.metadata?.labels) === role);
  if (!ds.length) return `Install ${what} (e.g. the EKS add-on aws-secrets-store-csi-driver-provider, or the construct's driver and provider).`;
  const reasons = ds.map((d) => whyNotScheduled(d, node)).filter((r): r is string => !!r);
  if (reasons.length) return `${reasons.join('; ')}. Add a matching toleration / nodeSelector to the DaemonSet.`;
  return `DaemonSet ${ds[0].metadata?.namespace}/${ds[0].metadata?.name} should run there: kubectl -n ${ds[0].metadata?.namespace} describe daemonset ${ds[0].metadata?.name}`;
}

export const check: Check = {
  id: 'driver-on-node',
  title: 'Driver and provider run on the node',
  group: 'driver',
  rank: 30,
  async run(ctx) {
    const pod = await ctx.pod();
    if (!pod) return [skip('needs --pod')];
    const node = await ctx.node();
    if (!node) return [skip(pod.spec?.nodeName ? `node ${pod.spec.nodeName} not found` : 'the pod is not scheduled on a node yet')];
    const [pods, daemonSets] = await Promise.all([ctx.podsOnNode(), ctx.daemonSets()]);
    return Promise.all((['driver', 'provider'] as Role[]).map((role) => checkRole(role, pods, daemonSets, node)));
  },
};
