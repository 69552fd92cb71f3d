import { checkClassParameters, ContractError, validateClassParameters } from '../../lib/contract';

/** The class of the write-up (test/fixtures/write-up/secret-provider-class.yaml). */
const EXAMPLE_OBJECTS = `
- objectName: "my-db-password"
  objectType: "secretsmanager"
  objectAlias: "db-password"
`;

function problemsOf(params: Record<string, string | undefined>, region = 'us-east-1') {
  return validateClassParameters(params, { region }).problems;
}

describe('validateClassParameters', () => {
  test('accepts the shared example and reads its one object', () => {
    const value = checkClassParameters({ objects: EXAMPLE_OBJECTS }, { region: 'us-east-1' });
    expect(value.settings).toEqual({ region: undefined, failoverRegion: undefined, pathTranslation: '_', usePodIdentity: false, preferredAddressType: undefined });
    expect(value.objects).toEqual([
      expect.objectContaining({ index: 0, type: 'secretsmanager', name: 'my-db-password', alias: 'db-password', fileName: 'db-password', jmesPath: [] }),
    ]);
  });

  test('keeps every scalar a string, as the AWS provider reads YAML', () => {
    const value = checkClassParameters({ objects: '- objectName: 1234\n  objectType: ssmparameter\n  objectVersion: 7\n' });
    expect(value.objects[0]).toMatchObject({ name: '1234', version: '7', fileName: '1234' });
  });

  test('collects every problem instead of stopping at the first', () => {
    const problems = problemsOf({ objects: '- objectType: secretsmanager\n- objectName: x\n  objectType: nope\n', pathTranslation: '--' });
    expect(problems.map((p) => p.rule).sort()).toEqual(['object-name', 'object-type', 'path-translation']);
  });

  test('a ContractError spells out the first 20 problems and counts the rest', () => {
    const objects = Array.from({ length: 25 }, (_, i) => `- objectName: s${i}\n`).join('');
    const problems = problemsOf({ objects });
    expect(problems).toHaveLength(25);
    const message = new ContractError(problems).message;
    expect(message).toContain('25 problems');
    expect(message).toContain('objects[19] "s19"');
    expect(message).not.toContain('objects[20] "s20"');
    expect(message).toContain('... and 5 more problems like these.');
  });

  test('checkClassParameters throws a ContractError that lists each problem with its fix', () => {
    expect(() => checkClassParameters({ objects: '- objectName: a\n- objectName: b\n' })).toThrow(ContractError);
    try {
      checkClassParameters({ objects: '- objectName: a\n- objectName: b\n' });
    } catch (e) {
      expect((e as Error).message).toContain('2 problems');
      expect((e as Error).message).toContain('objects[1] "b": has no objectType. Fix: Add objectType');
    }
  });
});

// Each row: parameters, the rule expected to fail ('' = valid), and a fragment of the message or fix.
type Row = [string, Record<string, string>, string, string];

const RULE_TABLE: Row[] = [
  // Rule 1: objects is a YAML list of mappings
  ['objects missing', {}, 'objects-yaml', 'is missing'],
  ['objects not YAML', { objects: '- objectName: [a' }, 'objects-yaml', 'not valid YAML'],
  ['objects a mapping', { objects: 'objectName: a' }, 'objects-yaml', 'not a YAML list'],
  ['objects empty list', { objects: '[]' }, 'objects-yaml', 'lists no objects'],
  ['empty entry', { objects: `${EXAMPLE_OBJECTS}-\n` }, 'object-entry', 'is empty'],
  ['scalar entry', { objects: '- my-secret\n' }, 'object-entry', 'not a mapping'],
  // Rule 2: objectName and objectType
  ['no objectName', { objects: '- objectType: secretsmanager\n' }, 'object-name', 'has no objectName'],
  ['no objectType for a name', { objects: '- objectName: a\n' }, 'object-type', 'has no objectType'],
  ['unknown objectType', { objects: '- objectName: a\n  objectType: SecretsManager\n' }, 'object-type', 'not a known type'],
  ['type implied by secretsmanager ARN', { objects: '- objectName: arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf\n' }, '', ''],
  ['type implied by ssm ARN', { objects: '- objectName: arn:aws:ssm:us-east-1:123456789012:parameter/app/db\n' }, '', ''],
  ['ARN of another service', { objects: '- objectName: arn:aws:s3:::bucket/key\n' }, 'object-type', 'cannot read'],
  ['type disagrees with ARN', { objects: '- objectName: arn:aws:ssm:us-east-1:123456789012:parameter/x\n  objectType: secretsmanager\n' }, 'object-type', 'Set objectType: ssmparameter'],
  ['malformed ARN', { objects: '- objectName: "arn:aws:secretsmanager"\n  objectType: secretsmanager\n' }, 'object-arn', 'not a valid ARN'],
  ['wildcard in a secret name', { objects: '- objectName: "db*"\n  objectType: secretsmanager\n' }, 'object-name', 'the character "*", which Secrets Manager secret names cannot contain'],
  ['question mark in a parameter name', { objects: '- objectName: "/app/d?"\n  objectType: ssmparameter\n' }, 'object-name', 'wildcards are not allowed'],
  ['whitespace in a parameter name', { objects: '- objectName: "/app/db password"\n  objectType: ssmparameter\n' }, 'object-name', 'whitespace'],
  ['"@" is fine for a secret, not for a parameter', { objects: '- objectName: "user@db"\n  objectType: secretsmanager\n- objectName: "user@db"\n  objectType: ssmparameter\n  objectAlias: p\n' }, 'object-name', 'objects[1] "user@db": has the character "@"'],
  ['wildcard in an ARN', { objects: '- objectName: "arn:aws:ssm:us-east-1:123456789012:parameter/app/*"\n' }, 'object-name', 'by its exact ARN'],
  ['wildcard in a failover object name', { failoverRegion: 'us-west-2', objects: '- objectName: s\n  objectType: secretsmanager\n  objectAlias: s\n  failoverObject:\n    objectName: "s*"\n' }, 'object-name', 'failoverObject: has the character "*"'],
  // Rule 3: ARN region equals the primary region
  ['ARN in another region', { objects: '- objectName: arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf\n' }, 'arn-region', 'Set region: "eu-west-1"'],
  ['ARN region matches region parameter', { region: 'eu-west-1', objects: '- objectName: arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf\n' }, '', ''],
  // Rule 4: SSM version and label
  ['SSM version and label', { objects: '- objectName: p\n  objectType: ssmparameter\n  objectVersion: "2"\n  objectVersionLabel: prod\n' }, 'ssm-version-and-label', 'Keep one'],
  ['SSM version not a number', { objects: '- objectName: p\n  objectType: ssmparameter\n  objectVersion: latest\n' }, 'ssm-version', 'whole numbers'],
  ['SSM version a number', { objects: '- objectName: p\n  objectType: ssmparameter\n  objectVersion: "12"\n' }, '', ''],
  ['Secrets Manager version and label', { objects: '- objectName: s\n  objectType: secretsmanager\n  objectVersion: abc\n  objectVersionLabel: AWSCURRENT\n' }, '', ''],
  // Rule 5: file names
  ['alias escaping with ..', { pathTranslation: 'False', objects: '- objectName: s\n  objectType: secretsmanager\n  objectAlias: ../../etc/passwd\n' }, 'file-name', 'outside the mount'],
  ['alias ..', { objects: '- objectName: s\n  objectType: secretsmanager\n  objectAlias: ".."\n' }, 'file-name', 'outside the mount'],
  ['alias .', { objects: '- objectName: s\n  objectType: secretsmanager\n  objectAlias: "."\n' }, 'file-name', 'mount directory itself'],
  ['slashes translated', { objects: '- objectName: /app/../db\n  objectType: ssmparameter\n' }, '', ''],
  ['name of slashes only, translation off', { pathTranslation: 'false', objects: '- objectName: ///\n  objectType: ssmparameter\n' }, 'file-name', 'is empty'],
  ['file name over 255 bytes', { objects: `- objectName: s\n  objectType: secretsmanager\n  objectAlias: ${'x'.repeat(256)}\n` }, 'file-name', 'over the 255'],
  ['a file inside another file (translation off)', { pathTranslation: 'False', objects: '- objectName: s\n  objectType: secretsmanager\n  objectAlias: a\n- objectName: t\n  objectType: secretsmanager\n  objectAlias: a/b\n' }, 'duplicate-file', 'both a file and a directory'],
  ['pathTranslation too long', { pathTranslation: '__', objects: EXAMPLE_OBJECTS }, 'path-translation', 'single character'],
  // Rule 6: filePermission
  ['filePermission three digits', { objects: '- objectName: s\n  objectType: secretsmanager\n  filePermission: "600"\n' }, 'file-permission', 'four octal digits'],
  ['filePermission with 8', { objects: '- objectName: s\n  objectType: secretsmanager\n  filePermission: "0680"\n' }, 'file-permission', 'four octal digits'],
  ['filePermission valid', { objects: '- objectName: s\n  objectType: secretsmanager\n  filePermission: "0600"\n' }, '', ''],
  // Rule 7: jmesPath entries
  ['jmesPath without alias', { objects: '- objectName: s\n  objectType: secretsmanager\n  jmesPath:\n    - path: username\n' }, 'jmespath-entry', 'has no objectAlias'],
  ['jmesPath without path', { objects: '- objectName: s\n  objectType: secretsmanager\n  jmesPath:\n    - objectAlias: u\n' }, 'jmespath-entry', 'has no path'],
  ['jmesPath not a list', { objects: '- objectName: s\n  objectType: secretsmanager\n  jmesPath: username\n' }, 'jmespath-entry', 'not a list'],
  ['jmesPath hyphenated key', { objects: '- objectName: s\n  objectType: secretsmanager\n  jmesPath:\n    - path: db-host\n      objectAlias: host\n' }, 'jmespath-syntax', 'path: \'"db-host"\''],
  ['jmesPath alias escaping', { objects: '- objectName: s\n  objectType: secretsmanager\n  jmesPath:\n    - path: u\n      objectAlias: ".."\n' }, 'file-name', 'outside the mount'],
  // Rule 8: duplicate file names
  ['duplicate aliases', { objects: `${EXAMPLE_OBJECTS}- objectName: other\n  objectType: secretsmanager\n  objectAlias: db-password\n` }, 'duplicate-file', 'objects[0] "my-db-password" mounts too'],
  ['same object twice by label only', { objects: '- objectName: s\n  objectType: secretsmanager\n  objectVersionLabel: AWSCURRENT\n- objectName: s\n  objectType: secretsmanager\n  objectVersionLabel: AWSPREVIOUS\n' }, 'duplicate-file', 'two aliases'],
  ['same object twice with two aliases', { objects: '- objectName: s\n  objectType: secretsmanager\n  objectVersionLabel: AWSCURRENT\n  objectAlias: current\n- objectName: s\n  objectType: secretsmanager\n  objectVersionLabel: AWSPREVIOUS\n  objectAlias: previous\n' }, '', ''],
  ['jmesPath alias equal to an object file', { objects: '- objectName: s\n  objectType: secretsmanager\n  jmesPath:\n    - path: u\n      objectAlias: s\n' }, 'duplicate-file', 'mounts the file "s"'],
  ['translation makes two names collide', { objects: '- objectName: a/b\n  objectType: ssmparameter\n- objectName: a_b\n  objectType: ssmparameter\n' }, 'duplicate-file', '"a_b"'],
  // Rule 9: failover object and region
  ['failover without alias', { failoverRegion: 'us-west-2', objects: '- objectName: s\n  objectType: secretsmanager\n  failoverObject:\n    objectName: s2\n' }, 'failover-object', 'no objectAlias'],
  ['failover without failoverRegion', { objects: '- objectName: s\n  objectType: secretsmanager\n  objectAlias: s\n  failoverObject:\n    objectName: s2\n' }, 'failover-object', 'no failoverRegion'],
  ['failover version differs', { failoverRegion: 'us-west-2', objects: '- objectName: s\n  objectType: secretsmanager\n  objectAlias: s\n  objectVersion: v1\n  failoverObject:\n    objectName: s2\n    objectVersion: v2\n' }, 'failover-object', 'same objectVersion'],
  ['failover ARN in the primary region', { failoverRegion: 'us-west-2', objects: '- objectName: s\n  objectType: secretsmanager\n  objectAlias: s\n  failoverObject:\n    objectName: arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf\n' }, 'arn-region', 'failover region us-west-2'],
  ['failover valid', { failoverRegion: 'us-west-2', objects: '- objectName: s\n  objectType: secretsmanager\n  objectAlias: s\n  failoverObject:\n    objectName: arn:aws:secretsmanager:us-west-2:123456789012:secret:s-AbCdEf\n' }, '', ''],
  ['region not a region', { region: 'us-east-1; rm -rf /', objects: EXAMPLE_OBJECTS }, 'region', 'not an AWS region name'],
  ['failoverRegion not a region', { failoverRegion: 'mars-1', objects: EXAMPLE_OBJECTS }, 'region', 'parameter failoverRegion'],
  ['GovCloud and ISO regions', { region: 'us-gov-west-1', failoverRegion: 'us-isob-east-1', objects: EXAMPLE_OBJECTS }, '', ''],
  ['failoverRegion equal to region', { region: 'us-east-1', failoverRegion: 'us-east-1', objects: EXAMPLE_OBJECTS }, 'failover-region', 'different region'],
  // Class parameters
  ['usePodIdentity not boolean', { usePodIdentity: 'yes', objects: EXAMPLE_OBJECTS }, 'use-pod-identity', 'not a boolean'],
  ['preferredAddressType unknown', { preferredAddressType: 'ipv5', objects: EXAMPLE_OBJECTS }, 'address-type', '"ipv4" or "ipv6"'],
  ['preferredAddressType any case', { preferredAddressType: 'IPv6', objects: EXAMPLE_OBJECTS }, '', ''],
];

describe('contract rules', () => {
  test.each(RULE_TABLE)('%s', (_name, params, rule, fragment) => {
    const problems = problemsOf(params);
    if (rule === '') {
      expect(problems).toEqual([]);
      return;
    }
    expect(problems.map((p) => p.rule)).toContain(rule);
    const problem = problems.find((p) => p.rule === rule)!;
    expect(`${problem.subject}: ${problem.message} Fix: ${problem.fix}`).toContain(fragment);
  });
});

describe('jmesPath messages', () => {
  test('a hyphenated key gets the quoted form and no parser internals', () => {
    const [problem] = problemsOf({ objects: '- objectName: s\n  objectType: secretsmanager\n  jmesPath:\n    - path: creds.db-host\n      objectAlias: host\n' });
    expect(problem.message).toBe('has the path "creds.db-host", which JMESPath cannot read: it takes "-" for a minus sign, so a key with a hyphen must be quoted.');
    expect(problem.fix).toBe('Quote keys that contain a hyphen: path: \'creds."db-host"\'.');
  });

  test('other syntax errors keep the parser\'s words', () => {
    const [problem] = problemsOf({ objects: '- objectName: s\n  objectType: secretsmanager\n  jmesPath:\n    - path: "a[[0"\n      objectAlias: a\n' });
    expect(problem.message).toMatch(/^has the path "a\[\[0", which is not a valid JMESPath expression \(.+\)\.$/);
  });
});

describe('settings', () => {
  test.each([
    ['true', true], ['True', true], ['TRUE', true], ['t', true], ['T', true], ['1', true],
    ['false', false], ['False', false], ['FALSE', false], ['f', false], ['F', false], ['0', false],
  ])('usePodIdentity %s reads as %s', (value, expected) => {
    expect(checkClassParameters({ usePodIdentity: value, objects: EXAMPLE_OBJECTS }).settings.usePodIdentity).toBe(expected);
  });

  test('pathTranslation replaces slashes with the given character, or keeps them when False', () => {
    const objects = '- objectName: /app/db/password\n  objectType: ssmparameter\n';
    expect(checkClassParameters({ objects }).objects[0].fileName).toBe('_app_db_password');
    expect(checkClassParameters({ objects, pathTranslation: '-' }).objects[0].fileName).toBe('-app-db-password');
    expect(checkClassParameters({ objects, pathTranslation: 'FALSE' }).objects[0].fileName).toBe('app/db/password');
  });

  test('filePermission becomes a numeric mode', () => {
    const value = checkClassParameters({ objects: '- objectName: s\n  objectType: secretsmanager\n  filePermission: "0640"\n  jmesPath:\n    - path: u\n      objectAlias: user\n      filePermission: "0400"\n' });
    expect(value.objects[0].mode).toBe(0o640);
    expect(value.objects[0].jmesPath).toEqual([{ path: 'u', alias: 'user', fileName: 'user', mode: 0o400 }]);
  });

  test('unknown fields are warnings, not problems', () => {
    const result = validateClassParameters({ objects: '- objectName: s\n  objectType: secretsmanager\n  objectAliaz: x\n' });
    expect(result.problems).toEqual([]);
    expect(result.warnings).toEqual([expect.objectContaining({ rule: 'unknown-field', message: expect.stringContaining('objectAliaz') })]);
  });
});

describe('unresolved values (synth time)', () => {
  const isUnresolved = (v: string) => v.includes('${Token[');

  test('skips checks on unresolved values instead of guessing', () => {
    const objects = '- objectName: "arn:${Token[AWS.Partition.1]}:secretsmanager:${Token[AWS.Region.2]}:1:secret:x-AbCdEf"\n  objectType: secretsmanager\n  objectAlias: "${Token[Alias.3]}"\n  filePermission: "${Token[Mode.4]}"\n';
    expect(validateClassParameters({ objects, region: 'us-east-1' }, { isUnresolved }).problems).toEqual([]);
  });

  test('an unresolved objects parameter is not reported as missing', () => {
    expect(validateClassParameters({ objects: '${Token[X.5]}' }, { isUnresolved }).problems).toEqual([]);
  });

  test('still reports rules that do not depend on the unresolved value', () => {
    const objects = '- objectName: "${Token[Name.6]}"\n  objectType: secretsmanager\n  filePermission: "777"\n';
    expect(validateClassParameters({ objects }, { isUnresolved }).problems.map((p) => p.rule)).toEqual(['file-permission']);
  });
});
