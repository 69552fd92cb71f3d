/**
 * The main job end to end (issue 5): the sample app's synthesized output makes
 * our provider mount the right file, with exactly the permissions the stack
 * grants. The same flow as `npm run demo`, once per identity variant (each
 * synthesizes once, with the CDK CLI, and runs its own moto server).
 */
import { FlowResult, Identity, runFlow } from './flow';
import { ensureBundle } from '../provider/harness';

jest.setTimeout(90_000);

describe.each<Identity>(['irsa', 'pod-identity'])('sample app end to end (%s)', (identity) => {
  let result: FlowResult;
  const lines: string[] = [];

  beforeAll(async () => {
    ensureBundle();
    result = await runFlow({ identity, log: (line) => lines.push(line) });
  });

  test('step 6: db-password holds the secret value with the class file mode and version', () => {
    const file = result.mount.files.find((f) => f.path === 'db-password');
    expect(result.mount.files.map((f) => f.path)).toEqual(['db-password']);
    expect(Buffer.from(file!.contents).toString('utf8')).toBe(result.secret.value);
    expect(result.secret.value.length).toBeGreaterThanOrEqual(20); // generated, not a fixed string
    expect(file!.mode).toBe(result.expectedMode);
    expect(result.expectedMode).toBe(0o644); // the class sets no filePermission: the request's 420
    expect(result.mount.objectVersion).toEqual([{ id: 'db-password', version: result.secret.versionId }]);
    expect(result.secret.arn).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:my-db-password-.{6}$/);
  });

  test('step 6: the provider read with the pod\'s role, each call allowed by the synthesized policy', () => {
    const session = `arn:aws:sts::123456789012:assumed-role/${result.roleArn.split('/').pop()}/`;
    const reads = result.decisions.filter((d) => d.principal.startsWith(session) && d.resource === result.secret.arn);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((d) => d.action === 'secretsmanager:GetSecretValue' && d.decision === 'Allow')).toBe(true);
    const credentialStep = identity === 'irsa' ? 'sts:AssumeRoleWithWebIdentity' : 'sts:AssumeRole';
    expect(result.decisions).toContainEqual(expect.objectContaining({ action: credentialStep, resource: result.roleArn, decision: 'Allow' }));
  });

  test('step 7: a secret the class does not name is denied, alone and in a batch', () => {
    expect(result.unnamed.getError).toBe('AccessDeniedException');
    expect(result.unnamed.batchValues).toEqual([result.secret.name]);
    expect(result.unnamed.batchErrors).toEqual([{ SecretId: result.unnamed.name, ErrorCode: 'AccessDeniedException' }]);
  });

  test('step 7: a class naming it fails the mount with a permission error naming the secret', () => {
    expect(result.unnamed.mountCode).toBe(7); // PERMISSION_DENIED
    expect(result.unnamed.mountDetails).toContain(result.unnamed.name);
    expect(result.unnamed.mountDetails).toContain('AccessDeniedException');
  });

  test('secret values never reach the report, the provider output or errors', () => {
    const everything = [...lines, result.tree, result.providerOutput, result.unnamed.mountDetails].join('\n');
    expect(everything).not.toContain(result.secret.value);
    expect(everything).not.toContain(result.unnamed.value);
    expect(result.tree).toMatch(/db-password {2}-rw-r--r-- \(0644\) {2}•+ \(\d+ bytes, masked\)/);
  });

  test('the report walks through the seven steps', () => {
    for (let step = 1; step <= 7; step++) expect(lines.some((l) => l.startsWith(`[${step}/7]`))).toBe(true);
    expect(lines.join('\n')).toContain(`identity: ${identity === 'irsa' ? 'IRSA' : 'EKS Pod Identity'}`);
  });
});
