import { status } from '@grpc/grpc-js';
import { AwsProxy } from './aws-proxy';
import { filesAsText, MotoData, mountRequest, ProviderBehindProxy, startProviderBehindProxy, unique } from './fixtures';
import { ProviderProcess } from './harness';

// The provider as its own process, AWS through a recording proxy in front of
// moto, Kubernetes through the API stand-in, IRSA through moto's STS.
let proxy: AwsProxy;
let provider: ProviderProcess;
let setup: ProviderBehindProxy | undefined;

beforeAll(async () => {
  setup = await startProviderBehindProxy();
  ({ proxy, provider } = setup);
});

afterAll(() => setup?.stop());

beforeEach(() => proxy.reset());

describe('SSM Parameter Store', () => {
  test('by name and by ARN, with versions and labels', async () => {
    // GIVEN a parameter with two versions, version 1 labelled "stable"
    const name = `/${unique('app')}/db/password`;
    await MotoData.putParameter(name, 'first');
    await MotoData.putParameter(name, 'second');
    await MotoData.labelParameter(name, 1, 'stable');
    const arn = `arn:aws:ssm:us-east-1:123456789012:parameter${name}`;

    // WHEN
    const response = await provider.mount(mountRequest({
      params: {
        objects: `- objectName: ${name}\n  objectType: ssmparameter\n  objectAlias: latest\n`
          + `- objectName: ${name}\n  objectType: ssmparameter\n  objectAlias: v1\n  objectVersion: "1"\n`
          + `- objectName: ${name}\n  objectType: ssmparameter\n  objectAlias: stable\n  objectVersionLabel: stable\n`
          + `- objectName: ${arn}\n  objectAlias: by-arn\n`
          + `- objectName: ${name}\n  objectType: ssmparameter\n`,
      },
    }));

    // THEN values, versions and default file name with "/" translated
    expect(filesAsText(response)).toEqual({
      'latest': 'second', 'v1': 'first', 'stable': 'first', 'by-arn': 'second', [name.split('/').join('_')]: 'second',
    });
    expect(response.objectVersion.find((v) => v.id === 'stable')!.version).toBe('1');
    expect(response.objectVersion.find((v) => v.id === 'latest')!.version).toBe('2');
    // each GetParameters call holds each parameter once, so the answers map back by name
    for (const call of proxy.callsTo('ssm', 'GetParameters')) {
      const names: string[] = JSON.parse(call.body).Names;
      expect(new Set(names.map((n) => n.split(':')[0] === 'arn' ? n : n.split(':')[0])).size).toBe(names.length);
    }
  });

  test('more than 10 parameters: GetParameters with 10 names a call', async () => {
    const prefix = `/${unique('many')}`;
    const names = Array.from({ length: 23 }, (_, i) => `${prefix}/p${i}`);
    await Promise.all(names.map((n, i) => MotoData.putParameter(n, `value-${i}`)));
    const response = await provider.mount(mountRequest({
      params: { objects: names.map((n) => `- objectName: ${n}\n  objectType: ssmparameter\n`).join(''), pathTranslation: 'False' },
    }));
    expect(response.files).toHaveLength(23);
    expect(filesAsText(response)[`${prefix.slice(1)}/p17`]).toBe('value-17');
    const calls = proxy.callsTo('ssm', 'GetParameters');
    expect(calls.map((c) => JSON.parse(c.body).Names.length).sort()).toEqual([10, 10, 3]);
  });

  test('names in InvalidParameters are NOT_FOUND, naming each one', async () => {
    const present = `/${unique('present')}`;
    await MotoData.putParameter(present, 'x');
    const missing = `/${unique('missing')}`;
    const result = provider.mount(mountRequest({
      params: { objects: `- objectName: ${present}\n  objectType: ssmparameter\n  objectVersion: "7"\n  objectAlias: a\n- objectName: ${missing}\n  objectType: ssmparameter\n  objectAlias: b\n` },
    }));
    await expect(result).rejects.toMatchObject({ code: status.NOT_FOUND });
    const details = await result.catch((e) => e.details as string);
    expect(details).toContain(`parameter "${present}" version 7 in us-east-1 (ssm): ParameterNotFound`);
    expect(details).toContain(`parameter "${missing}" in us-east-1 (ssm): ParameterNotFound`);
  });
});
