import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AwsStandIn } from './aws-standin';
import { AwsFixture, BUNDLE, DoctorRun, NS, PLANTED, World, createAws, createSecret, ensureBundle, healthyWorld, runDoctor, serve } from './fixture';
import { KubeApiStandIn } from '../support/kube-api';

interface Entry { check: string; status: string; detail: string; fix?: string; evidence?: string[] }
interface JsonReport { rootCause: Entry | null; results: Entry[]; summary: Record<string, number> }

const standIns: KubeApiStandIn[] = [];
beforeAll(() => ensureBundle());
afterEach(async () => {
  await Promise.all(standIns.splice(0).map((k) => k.stop()));
});

/** Create the AWS side, let the test break the world, and run the doctor on the pod (human and JSON output). */
async function diagnose(
  options: Parameters<typeof createAws>[1] = {},
  breakIt: (world: World, aws: AwsFixture) => void | Promise<void> = () => undefined,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<{ text: DoctorRun; json: JsonReport; jsonRun: DoctorRun }> {
  const aws = await createAws(randomBytes(4).toString('hex'), options);
  const world = healthyWorld(aws);
  await breakIt(world, aws);
  const kube = await serve(world);
  standIns.push(kube);
  const args = ['-n', NS, '--pod', world.pod.metadata.name, ...extraArgs];
  const [text, jsonRun] = await Promise.all([runDoctor(kube.kubeconfigPath, args, env), runDoctor(kube.kubeconfigPath, [...args, '--json'], env)]);
  // No run may ever print a secret value (and the report's last-resort redaction must not have been needed).
  for (const run of [text, jsonRun]) {
    expect(run.stdout + run.stderr).not.toContain(PLANTED);
    expect(run.stdout).not.toContain('<redacted>');
  }
  if (process.env.DOCTOR_TEST_PRINT) process.stdout.write(text.stdout);
  return { text, jsonRun, json: JSON.parse(jsonRun.stdout) };
}

test('a healthy pod passes every check and exits 0', async () => {
  const { text, json } = await diagnose();
  expect(json.results.filter((r) => r.status !== 'pass')).toEqual([]);
  expect(text.code).toBe(0);
});

/** The run failed, with `check` as the root cause whose detail and fix contain the fragments. */
type Diagnosis = { text: DoctorRun; json: JsonReport; jsonRun: DoctorRun };
function expectRootCause(run: Diagnosis, check: string, detail: string | RegExp, fix: string | RegExp) {
  expect(run.json.rootCause).toMatchObject({ check, status: 'fail' });
  expect(run.json.rootCause!.detail).toMatch(detail);
  expect(run.json.rootCause!.fix).toMatch(fix);
  expect(run.text.code).toBe(1);
  expect(run.jsonRun.code).toBe(1);
  // Human output names the same root cause first.
  const afterHeading = run.text.stdout.split('Root cause\n')[1] ?? '';
  expect(afterHeading.split('\n')[0]).toMatch(new RegExp(`FAIL\\s+${check}\\s`));
}

const podWarning = (reason: string, message: string) => ({
  metadata: { namespace: NS, name: `checkout-7d9f.${reason}`, uid: `ev-${reason}` },
  type: 'Warning',
  reason,
  message,
  count: 3,
  involvedObject: { kind: 'Pod', name: 'checkout-7d9f', namespace: NS },
});

describe('names the root cause and the fix', () => {
  test('class name typo in the volume: suggests the near-miss name', async () => {
    const run = await diagnose({}, (w) => {
      w.pod.spec.volumes[0].csi.volumeAttributes.secretProviderClass = 'aws-secret';
      w.events.push(podWarning('FailedMount', 'MountVolume.SetUp failed for volume "secrets" : rpc error: code = Unknown desc = failed to get secretproviderclass shop/aws-secret, error: SecretProviderClass.secrets-store.csi.x-k8s.io "aws-secret" not found'));
    });
    expectRootCause(run, 'volume-csi', /"aws-secret" does not exist in namespace shop/, /Did you mean "aws-secrets"\?/);
    const events = run.json.results.find((r) => r.check === 'events')!;
    expect(events.status).toBe('warn');
    expect(events.evidence![0]).toMatch(/^FailedMount x3 -> volume-csi:/);
  });

  test('class in another namespace', async () => {
    const run = await diagnose({}, (w) => {
      w.classes[0].metadata.namespace = 'payments';
    });
    expectRootCause(run, 'volume-csi', /it exists in namespace payments/, /create "aws-secrets" in namespace shop/);
  });

  test('provider not running on the node: the DaemonSet does not tolerate the node taint', async () => {
    const run = await diagnose({}, (w) => {
      w.node.spec.taints = [{ key: 'dedicated', value: 'payments', effect: 'NoSchedule' }];
      w.systemPods = w.systemPods.filter((p) => !p.metadata.name.includes('provider'));
      w.daemonSets[0].spec.template.spec.tolerations = [{ operator: 'Exists' }];
      w.logs[0].text += '\nE1203 10:02:00.1       1 mount.go:80] "failed to mount secrets store object content" err="provider not found: provider \\"aws\\"" pod="shop/checkout-7d9f"';
    });
    expectRootCause(run, 'driver-on-node', /no provider pod runs on node/, /does not tolerate the node's taint dedicated=payments:NoSchedule/);
    const logs = run.json.results.find((r) => r.check === 'driver-logs' && r.status === 'warn')!;
    expect(logs.evidence![0]).toContain('provider not found');
  });

  test('CSIDriver without token audiences', async () => {
    const run = await diagnose({}, (w) => {
      delete w.csiDriver.spec.tokenRequests;
    });
    expectRootCause(run, 'csidriver-tokens', /no token for audience sts\.amazonaws\.com \(IRSA\); tokenRequests: none/, /tokenRequests: \[\{audience: sts\.amazonaws\.com\}\]/);
  });

  test('object name typo', async () => {
    const run = await diagnose({}, (w, aws) => {
      w.classes[0].spec.parameters.objects = w.classes[0].spec.parameters.objects.replace(aws.apiKey.name, `${aws.apiKey.name}s`);
    });
    expectRootCause(run, 'objects-exist', /no Secrets Manager secret "doctor-\w+\/api-keys" in us-east-1/, /Fix objectName/);
  });

  test('secret in another region', async () => {
    const run = await diagnose({}, async (w, aws) => {
      const name = `${aws.apiKey.name}-west`;
      await createSecret('us-west-2', name, `${PLANTED}-west`);
      w.classes[0].spec.parameters.objects = w.classes[0].spec.parameters.objects.replace(aws.apiKey.name, name);
    }, ['--search-regions', 'eu-west-1,us-west-2']);
    expectRootCause(run, 'objects-exist', /no Secrets Manager secret "doctor-\w+\/api-key-west" in us-east-1, but it exists in us-west-2/, /Set the class parameter region: us-west-2/);
  });

  test('role lacking permission on one of two secrets: prints the missing statement', async () => {
    const run = await diagnose({ grantApiKey: false });
    expectRootCause(run, 'permissions', /may not secretsmanager:GetSecretValue \(implicitDeny\) on aws-secrets objects\[1\]/, /"Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:123456789012:secret:doctor-\w+\/api-key-\w{6}"/);
    const perms = run.json.results.filter((r) => r.check === 'permissions');
    expect(perms.map((r) => r.status)).toEqual(['pass', 'fail', 'pass']);
  });

  test('service account without role annotation', async () => {
    const run = await diagnose({}, (w) => {
      delete w.serviceAccount.metadata.annotations;
    });
    expectRootCause(run, 'identity', /service account shop\/app has no eks\.amazonaws\.com\/role-arn annotation/, /annotate serviceaccount app eks\.amazonaws\.com\/role-arn=/);
  });

  test('trust policy for another service account', async () => {
    const run = await diagnose({ trustedServiceAccount: 'billing' });
    expectRootCause(run, 'trust', /trust does not accept system:serviceaccount:shop:app/, /:sub": "system:serviceaccount:shop:app"/);
    expect(run.json.rootCause!.evidence!.join()).toContain('sub=system:serviceaccount:shop:billing');
  });

  test('objectVersion that does not exist', async () => {
    const run = await diagnose({}, (w, aws) => {
      w.classes[0].spec.parameters.objects = w.classes[0].spec.parameters.objects.replace(
        `objectName: ${aws.apiKey.name}`, `objectName: ${aws.apiKey.name}\n  objectVersion: 00000000-0000-4000-8000-000000000000`);
    });
    expectRootCause(run, 'versions', /objectVersion 00000000-0000-4000-8000-000000000000 does not exist/, /Use an existing VersionId/);
    expect(run.json.rootCause!.evidence!.join()).toMatch(/\[AWSCURRENT\]/);
  });

  test('failover region without the object: the failover copy is checked in its own region', async () => {
    const run = await diagnose({}, (w) => {
      w.classes[0].spec.parameters.failoverRegion = 'us-west-2';
    });
    expectRootCause(run, 'objects-exist', /objects\[0\] failover "doctor-\w+\/db" \(secretsmanager, us-west-2\): no Secrets Manager secret/, /Replicate the Secrets Manager secret to us-west-2/);
  });

  test('jmesPath key missing from the secret', async () => {
    const run = await diagnose({}, (w) => {
      w.classes[0].spec.parameters.objects = w.classes[0].spec.parameters.objects.replace('path: password', 'path: passwd');
    });
    expectRootCause(run, 'jmespath', /jmesPath passwd \(alias db-password\) finds nothing; top-level keys: username, password/, /Fix the path/);
  });
});

describe('calls moto lacks, through a stand-in (IAM policy simulator, EKS Pod Identity)', () => {
  let standIn: AwsStandIn | undefined;
  afterEach(async () => {
    await standIn?.stop();
    standIn = undefined;
  });

  test('the policy simulator decides over the role policies: a boundary denies one secret', async () => {
    standIn = await new AwsStandIn(process.env.MOTO_ENDPOINT!, {
      decide: (_action, resource) => (resource.includes('/api-key-') ? 'explicitDeny' : 'allowed'),
    }).start();
    const run = await diagnose({}, undefined, [], { AWS_ENDPOINT_URL_IAM: standIn.url });
    expectRootCause(run, 'permissions', /may not secretsmanager:GetSecretValue \(explicitDeny\) on aws-secrets objects\[1\]/, /explicit Deny blocks it .*"Action":"secretsmanager:GetSecretValue"/);
    expect(run.json.rootCause!.evidence![0]).toBe('decided by IAM policy simulator');
    expect(standIn.answered).toContain('SimulatePrincipalPolicy');
  });

  async function podIdentity(associated: boolean) {
    const roleArn = { value: '' };
    const cluster = { value: '' };
    standIn = await new AwsStandIn(process.env.MOTO_ENDPOINT!, {
      get associations() {
        return associated ? [{ clusterName: cluster.value, namespace: NS, serviceAccount: 'app', roleArn: roleArn.value, associationId: 'a-1' }] : [];
      },
    }).start();
    return diagnose({ podIdentity: true }, (w, aws) => {
      roleArn.value = aws.roleArn;
      cluster.value = aws.cluster;
      w.classes[0].spec.parameters.usePodIdentity = 'true';
      delete w.serviceAccount.metadata.annotations;
    }, [], { AWS_ENDPOINT_URL_EKS: standIn.url });
  }

  test('a healthy Pod Identity pod passes every check', async () => {
    const run = await podIdentity(true);
    expect(run.json.results.filter((r) => r.status !== 'pass')).toEqual([]);
    expect(run.json.results.find((r) => r.check === 'trust')!.detail).toMatch(/trusts pods\.eks\.amazonaws\.com/);
    expect(run.text.code).toBe(0);
    expect(standIn!.answered).toEqual(expect.arrayContaining(['ListPodIdentityAssociations', 'DescribePodIdentityAssociation']));
  });

  test('Pod Identity without an association', async () => {
    const run = await podIdentity(false);
    expectRootCause(run, 'identity', /no Pod Identity association for service account shop\/app/, /create-pod-identity-association --cluster-name doctor-\w+ --namespace shop --service-account app/);
  });
});

describe('the command line', () => {
  test('--class without a pod checks the class, its objects and IAM for --service-account', async () => {
    const aws = await createAws(randomBytes(4).toString('hex'));
    const world = healthyWorld(aws);
    world.classes[0].spec.parameters.objects = world.classes[0].spec.parameters.objects.replace('path: password', 'path: passwd');
    const kube = await serve(world);
    standIns.push(kube);
    const run = await runDoctor(kube.kubeconfigPath, ['-n', NS, '--class', 'aws-secrets', '--service-account', 'app', '--cluster-name', aws.cluster, '--json']);
    const json = JSON.parse(run.stdout) as JsonReport;
    expect(run.code).toBe(1);
    expect(json.rootCause).toMatchObject({ check: 'jmespath', status: 'fail' });
    const byCheck = (id: string) => json.results.filter((r) => r.check === id).map((r) => r.status);
    expect(byCheck('trust')).toEqual(['pass']);
    expect(byCheck('driver-on-node')).toEqual(['skip']);
    expect(run.stdout + run.stderr).not.toContain(PLANTED);
  });

  // util-linux `script` gives the doctor a terminal; without it there is no TTY to test.
  const hasScript = fs.existsSync('/usr/bin/script');
  (hasScript ? test : test.skip)('on a terminal: colours the statuses and shows progress while it works', async () => {
    const aws = await createAws(randomBytes(4).toString('hex'));
    const kube = await serve(healthyWorld(aws));
    standIns.push(kube);
    const command = [process.execPath, BUNDLE, '-n', NS, '--pod', 'checkout-7d9f'].map((a) => `'${a}'`).join(' ');
    const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kube.kubeconfigPath, AWS_ENDPOINT_URL: process.env.MOTO_ENDPOINT, AWS_REGION: 'us-east-1' };
    delete env.NO_COLOR;
    const terminal = await new Promise<string>((resolve) => {
      execFile('script', ['-qefc', command, '/dev/null'], { env }, (_err, stdout) => resolve(stdout));
    });
    expect(terminal).toContain('\u001b[32mPASS\u001b[0m');
    expect(terminal).toContain('checking Driver and provider: Driver and provider run on the node');
    expect(terminal).not.toContain(PLANTED);
  });

  test('a usage error exits 2 with the fix', async () => {
    const run = await runDoctor('/nonexistent', ['-n', NS]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('give --pod <name> or --class <name>');
  });

  test('a pod that does not exist exits 2 naming it', async () => {
    const kube = await new KubeApiStandIn().start();
    standIns.push(kube);
    const run = await runDoctor(kube.kubeconfigPath, ['-n', NS, '--pod', 'checkout-typo']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('pod shop/checkout-typo not found');
  });

  test('an unreachable API server exits 2 naming what failed', async () => {
    // A kubeconfig pointing at a port nothing listens on any more.
    const kube = await new KubeApiStandIn().start();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doctor-'));
    const kubeconfig = path.join(dir, 'kubeconfig');
    fs.copyFileSync(kube.kubeconfigPath, kubeconfig);
    await kube.stop();
    try {
      const run = await runDoctor(kubeconfig, ['-n', NS, '--pod', 'x']);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/Kubernetes API: reading pod shop\/x failed/);
      expect(run.stdout).toBe('');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('usage and access errors exit 2, as JSON with --json', () => {
  interface FatalJson { error: string; fix: string }
  /** The one JSON object a fatal error prints on stdout with --json. */
  function fatalJson(run: DoctorRun): FatalJson {
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('');
    const parsed = JSON.parse(run.stdout) as FatalJson;
    expect(Object.keys(parsed).sort()).toEqual(['error', 'fix']);
    return parsed;
  }

  test.each([
    ['an unknown option', ['--bogus'], "unknown option '--bogus'"],
    ['an option without its value', ['--pod', 'x', '-n'], "option '-n, --namespace <ns>' argument missing"],
    ['a negative --log-lines', ['--pod', 'x', '--log-lines', '-3'], 'expected a positive integer, got "-3"'],
    ['a fractional --log-lines', ['--pod', 'x', '--log-lines', '1.5'], 'expected a positive integer, got "1.5"'],
    ['neither --pod nor --class', ['-n', NS], 'give --pod <name> or --class <name>'],
  ])('%s: exit 2, the problem and where to find usage', async (_what, args, message) => {
    const text = await runDoctor('/nonexistent', args);
    expect(text.code).toBe(2);
    expect(text.stderr).toContain(message);
    expect(text.stderr).toContain('--help');
    expect(text.stdout).toBe('');

    const json = fatalJson(await runDoctor('/nonexistent', ['--json', ...args]));
    expect(json.error).toContain(message);
    expect(json.error).not.toMatch(/^error:/);
    expect(json.fix).toMatch(/--help/);
  });

  test('no AWS region: exit 2 naming --region', async () => {
    const json = fatalJson(await runDoctor('/nonexistent', ['--json', '--pod', 'x'], { AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined }));
    expect(json.error).toContain('pass --region or set AWS_REGION');
  });

  test('--help exits 0 and prints the usage, --json or not', async () => {
    for (const args of [['--help'], ['--json', '--help']]) {
      const run = await runDoctor('/nonexistent', args);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Usage: secrets-store-doctor [options]');
      expect(run.stdout).toContain('--log-lines <n>');
    }
  });

  test('no kubeconfig at all: says so and how to create one', async () => {
    // HOME without .kube/config, KUBECONFIG unset; the client would otherwise try http://localhost:8080.
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'doctor-home-'));
    const env = { HOME: home, KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: undefined };
    try {
      const text = await runDoctor('', ['-n', NS, '--pod', 'x'], env);
      expect(text.code).toBe(2);
      expect(text.stderr).toContain('no kubeconfig found');
      expect(text.stderr).toContain('aws eks update-kubeconfig --name <cluster>');
      expect(text.stderr).not.toMatch(/skipTLSVerify|localhost:8080/);
      expect(text.stdout).toBe('');

      const json = fatalJson(await runDoctor('', ['-n', NS, '--pod', 'x', '--json'], env));
      expect(json.error).toMatch(/^no kubeconfig found/);
      expect(json.fix).toMatch(/Set KUBECONFIG or create ~\/\.kube\/config .*aws eks update-kubeconfig --name <cluster>/);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  test('an unreadable kubeconfig, an unknown context', async () => {
    const missing = fatalJson(await runDoctor('/nonexistent/kubeconfig', ['--pod', 'x', '--json']));
    expect(missing.error).toMatch(/^cannot load the kubeconfig \(ENOENT.*\/nonexistent\/kubeconfig/);
    expect(missing.fix).toContain('Set KUBECONFIG');

    const kube = await new KubeApiStandIn().start();
    standIns.push(kube);
    const context = fatalJson(await runDoctor(kube.kubeconfigPath, ['--pod', 'x', '--context', 'prod', '--json']));
    expect(context.error).toBe('kubeconfig has no context "prod".');
    expect(context.fix).toMatch(/^Pass one of its contexts to --context: \S/);
  });

  test('an unreachable API server and a missing pod, as JSON', async () => {
    const kube = await new KubeApiStandIn().start();
    standIns.push(kube);
    const missingPod = fatalJson(await runDoctor(kube.kubeconfigPath, ['-n', NS, '--pod', 'checkout-typo', '--json']));
    expect(missingPod).toEqual({ error: 'pod shop/checkout-typo not found.', fix: 'Check the name and --namespace (kubectl get pods -n shop).' });

    // The same kubeconfig once nothing listens on its port any more.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doctor-'));
    const kubeconfig = path.join(dir, 'kubeconfig');
    fs.copyFileSync(kube.kubeconfigPath, kubeconfig);
    await kube.stop();
    try {
      const unreachable = fatalJson(await runDoctor(kubeconfig, ['-n', NS, '--pod', 'x', '--json']));
      expect(unreachable.error).toMatch(/^Kubernetes API: reading pod shop\/x failed \(.+\)\.$/);
      expect(unreachable.fix).toContain('RBAC read access');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the bundle', () => {
  test('carries only the Kubernetes API groups the doctor reads', () => {
    // keepNames keeps class names in the minified bundle: the used ones are there, unused groups are not.
    const bundle = fs.readFileSync(BUNDLE, 'utf8');
    for (const used of ['ObjectCoreV1Api', 'ObjectStorageV1Api', 'ObjectAppsV1Api', 'ObjectCustomObjectsApi']) expect(bundle).toContain(`"${used}"`);
    for (const unused of ['ObjectBatchV1Api', 'ObjectNetworkingV1Api', 'ObjectRbacAuthorizationV1Api']) expect(bundle).not.toContain(`"${unused}"`);
  });
});
