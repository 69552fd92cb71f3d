import { status } from '@grpc/grpc-js';
import { AwsProxy } from './aws-proxy';
import { filesAsText, MotoData, mountRequest, startCluster, tokensAttribute, unique } from './fixtures';
import { ProviderProcess } from './harness';
import { PodIdentityAgentStandIn } from './pod-identity-agent';
import { KubeApiStandIn } from '../support/kube-api';

let proxy: AwsProxy;
let kube: KubeApiStandIn;
let agent: PodIdentityAgentStandIn;
let provider: ProviderProcess;
let secret: string;

beforeAll(async () => {
  proxy = await new AwsProxy(process.env.MOTO_ENDPOINT!).start();
  kube = await startCluster({ region: 'us-east-1' });
  kube.set('/api/v1/namespaces/default/serviceaccounts/plain', { metadata: { name: 'plain', namespace: 'default' } });
  agent = await new PodIdentityAgentStandIn({ 'pod-identity-token-1': 'ASIAPODIDENTITY00001' }).start();
  // No AWS_REGION: the region comes from the class or the node's label. IPv6 agent endpoint unreachable on purpose.
  provider = await ProviderProcess.start({
    kube,
    env: { AWS_ENDPOINT_URL: proxy.url, AWS_MAX_ATTEMPTS: '1', AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined },
    args: ['--pod-identity-endpoint-ipv4', agent.url, '--pod-identity-endpoint-ipv6', 'http://127.0.0.1:9/v1/credentials', '--pod-identity-timeout', '500'],
  });
  secret = unique('identity');
  await MotoData.createSecret(secret, 'identity-value');
});

afterAll(async () => {
  await provider?.stop();
  await agent?.stop();
  await kube?.stop();
  await proxy?.stop();
});

beforeEach(() => proxy.reset());

const objects = () => `- objectName: ${secret}\n  objectType: secretsmanager\n  objectAlias: s\n`;

describe('credentials and cluster reads', () => {
  test('region from the node label, role from the annotation; a burst of pods reads each object once', async () => {
    const before = kube.requests.length;
    const results = await Promise.all([0, 1, 2].map(() => provider.mount(mountRequest({ params: { objects: objects() } }))));
    for (const r of results) expect(filesAsText(r)).toEqual({ s: 'identity-value' });
    const reads = kube.requests.slice(before).map((r) => r.path).sort();
    expect(reads).toEqual(['/api/v1/namespaces/default/pods/app-0', '/api/v1/namespaces/default/serviceaccounts/app', '/api/v1/nodes/node-a']);
  });

  test('a region from the node label still decides the ARN-region and failover-region rules', async () => {
    const arn = `- objectName: arn:aws:secretsmanager:eu-west-1:123456789012:secret:${secret}-AbCdEf\n  objectAlias: s\n`;
    const wrongArn = await provider.mount(mountRequest({ params: { objects: arn } })).catch((e) => e);
    expect(wrongArn.code).toBe(status.INVALID_ARGUMENT);
    expect(wrongArn.details).toContain('is in region eu-west-1, but is read in the primary region us-east-1');

    const sameFailover = await provider.mount(mountRequest({ params: { objects: objects(), failoverRegion: 'us-east-1' } })).catch((e) => e);
    expect(sameFailover.code).toBe(status.INVALID_ARGUMENT);
    expect(sameFailover.details).toContain('parameter failoverRegion: is "us-east-1", the same as the primary region');
    expect(proxy.calls).toEqual([]);
  });

  test('without a region, a pod the API does not know is NOT_FOUND naming it and the fix; an unscheduled one says so', async () => {
    const ghost = await provider.mount(mountRequest({ pod: 'ghost-pod', params: { objects: objects() } })).catch((e) => e);
    expect(ghost.code).toBe(status.NOT_FOUND);
    expect(ghost.details).toMatch(/pod default\/ghost-pod was not found in the Kubernetes API, and the region comes from the label of the pod's node/);
    expect(ghost.details).toMatch(/Fix: set region in the SecretProviderClass parameters, or AWS_REGION on the provider\./);
    expect(ghost.details).not.toContain('has no node');

    kube.set('/api/v1/namespaces/default/pods/pending-pod', { metadata: { name: 'pending-pod', namespace: 'default' }, spec: { containers: [] } });
    const pending = await provider.mount(mountRequest({ pod: 'pending-pod', params: { objects: objects() } })).catch((e) => e);
    expect(pending.code).toBe(status.FAILED_PRECONDITION);
    expect(pending.details).toMatch(/pod default\/pending-pod is not scheduled on a node yet.*Fix: set region/);
  });

  test('a service account without the role annotation is PERMISSION_DENIED naming it', async () => {
    const result = provider.mount(mountRequest({ serviceAccount: 'plain', params: { objects: objects(), region: 'us-east-1' } }));
    await expect(result).rejects.toMatchObject({ code: status.PERMISSION_DENIED, details: expect.stringContaining('default/plain has no eks.amazonaws.com/role-arn annotation') });
    expect(proxy.calls).toHaveLength(0);
  });

  test.each([
    ['missing', null, 'sent no service account tokens'],
    ['not JSON', '{not json', 'is not valid JSON'],
    ['without the audience', tokensAttribute({ 'other.example.com': 'x' }), 'no token for the audience sts.amazonaws.com'],
    ['empty', tokensAttribute({ 'sts.amazonaws.com': '' }), 'token for the audience sts.amazonaws.com is empty'],
  ])('tokens %s: UNAUTHENTICATED telling to configure tokenRequests, before any AWS call', async (_case, tokens, message) => {
    const result = provider.mount(mountRequest({ tokens, params: { objects: objects(), region: 'us-east-1' } }));
    await expect(result).rejects.toMatchObject({ code: status.UNAUTHENTICATED, details: expect.stringMatching(new RegExp(`${message}.*tokenRequests`)) });
    expect(proxy.calls).toHaveLength(0);
  });

  test('Pod Identity through the agent: its credentials sign the calls; no STS, no service account read', async () => {
    const before = kube.requests.length;
    const response = await provider.mount(mountRequest({
      tokens: tokensAttribute({ 'pods.eks.amazonaws.com': 'pod-identity-token-1' }),
      params: { objects: objects(), region: 'us-east-1', usePodIdentity: 'True', preferredAddressType: 'IPv4' },
    }));
    expect(filesAsText(response)).toEqual({ s: 'identity-value' });
    expect(proxy.callsTo('sts')).toHaveLength(0);
    expect(proxy.callsTo('secretsmanager')[0].accessKeyId).toBe('ASIAPODIDENTITY00001');
    expect(agent.requests).toContain('pod-identity-token-1');
    expect(kube.requests.length).toBe(before);
  });

  test('Pod Identity: an unknown token gets the agent refusal; an unreachable family says how to fix it', async () => {
    const params = { objects: objects(), region: 'us-east-1', usePodIdentity: 'true' };
    await expect(provider.mount(mountRequest({ tokens: tokensAttribute({ 'pods.eks.amazonaws.com': 'unknown' }), params })))
      .rejects.toMatchObject({ code: status.PERMISSION_DENIED, details: expect.stringContaining('Pod Identity association') });
    await expect(provider.mount(mountRequest({ tokens: tokensAttribute({ 'pods.eks.amazonaws.com': 'pod-identity-token-1' }), params: { ...params, preferredAddressType: 'ipv6' } })))
      .rejects.toMatchObject({ code: status.UNAVAILABLE, details: expect.stringContaining('eks-pod-identity-agent') });
  });

  test('path escapes through objectAlias and jmesPath aliases are INVALID_ARGUMENT before any AWS call', async () => {
    for (const yaml of [
      `- objectName: ${secret}\n  objectType: secretsmanager\n  objectAlias: ../../etc/passwd\n`,
      `- objectName: ${secret}\n  objectType: secretsmanager\n  objectAlias: ..\n`,
      `- objectName: ${secret}\n  objectType: secretsmanager\n  jmesPath:\n    - path: a\n      objectAlias: ../escape\n`,
    ]) {
      await expect(provider.mount(mountRequest({ params: { objects: yaml, region: 'us-east-1', pathTranslation: 'False' } })))
        .rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('..') });
    }
    expect(proxy.calls).toHaveLength(0);
  });

  test('an invalid class lists every problem with its fix, before any AWS call', async () => {
    const result = provider.mount(mountRequest({
      params: { region: 'us-east-1', objects: '- objectName: a\n  objectType: nope\n- objectName: b\n  objectType: secretsmanager\n  filePermission: "777"\n' },
    }));
    await expect(result).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/SecretProviderClass aws-secrets is invalid: 2 problems/) });
    expect(proxy.calls).toHaveLength(0);
  });
});
