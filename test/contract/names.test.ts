import { ContractError, jmesPathHint, parseArn, parseBool, translateFileName } from '../../lib/contract';

describe('translateFileName', () => {
  test.each([
    ['db-password', '_', 'db-password'],
    ['/app/db', '_', '_app_db'],
    ['/app/db', false, 'app/db'],
    ['//app/db', false, 'app/db'],
    ['a/b', '.', 'a.b'],
  ] as Array<[string, string | false, string]>)('%s with %s mounts as %s', (name, translation, expected) => {
    expect(translateFileName(name, translation)).toBe(expected);
  });

  test.each([
    ['', '_'], ['.', '_'], ['..', '_'], ['../x', false], ['a/../../x', false], ['a//b', false], ['/', false],
  ] as Array<[string, string | false]>)('rejects %j (translation %s)', (name, translation) => {
    expect(() => translateFileName(name, translation)).toThrow(ContractError);
  });

  test('a translation of "." cannot make a name escape', () => {
    // "/.." becomes "..." with "." as the translation character: a plain file name.
    expect(translateFileName('/..', '.')).toBe('...');
  });
});

describe('parseBool', () => {
  test('rejects forms Go does not accept', () => {
    for (const value of ['yes', 'no', 'tRUE', '', ' true']) expect(parseBool(value)).toBeUndefined();
  });
});

describe('parseArn', () => {
  test('splits a secret ARN and refuses a name', () => {
    expect(parseArn('arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:db-AbCdEf')).toEqual({
      partition: 'aws-cn', service: 'secretsmanager', region: 'cn-north-1', accountId: '123456789012', resource: 'secret:db-AbCdEf',
    });
    expect(parseArn('my-db-password')).toBeUndefined();
  });
});

describe('jmesPathHint', () => {
  test.each([
    ['db-host', '"db-host"'],
    ['creds.db-host', 'creds."db-host"'],
    ['a[0].b-c-d', 'a[0]."b-c-d"'],
    ['"db-host".sub-key', '"db-host"."sub-key"'],
  ])('%s -> %s', (path, hint) => {
    expect(jmesPathHint(path)).toBe(hint);
  });

  test('nothing to quote', () => {
    expect(jmesPathHint('username')).toBeUndefined();
    expect(jmesPathHint('"db-host"')).toBeUndefined();
  });
});
