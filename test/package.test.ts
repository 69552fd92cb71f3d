/**
 * The npm package ships what the bundled install mode needs to build the provider image at
 * `cdk deploy` (the Dockerfile and the built provider) and nothing of the provider's sources,
 * the tests or the sample app.
 */
import { execFileSync } from 'node:child_process';
import { ensureBundle, REPO_ROOT } from './provider/harness';

/** Paths `npm pack` would put in the tarball (scripts skipped; nothing is written). */
function packedFiles(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(out)[0].files.map((f: { path: string }) => f.path);
}

describe('npm package', () => {
  let files: string[];
  beforeAll(() => {
    ensureBundle();
    files = packedFiles();
  }, 120_000);

  test('contains the Dockerfile, its .dockerignore and every file the Dockerfile copies from the built provider', () => {
    expect(files).toEqual(expect.arrayContaining([
      'provider/Dockerfile',
      'provider/.dockerignore',
      'provider/dist/main.js',
      'provider/dist/kube-client.js',
      'provider/dist/ssm-sdk.js',
      'provider/dist/csi-provider.proto',
      'provider/dist/doctor.js',
    ]));
  });

  test('bundles only the library\'s own plain-JavaScript dependencies (and theirs), nothing of the AWS SDK core', () => {
    const bundled = new Set(files.filter((f) => f.startsWith('node_modules/'))
      .map((f) => f.split('/').slice(1, f.split('/')[1].startsWith('@') ? 3 : 2).join('/')));
    expect([...bundled].sort()).toEqual(['@aws-sdk/util-arn-parser', 'jmespath', 'tslib', 'yaml']);
  });

  test('contains no provider sources, tests, sample app, synth output or local state', () => {
    const unwanted = files.filter((f) =>
      /^(provider\/(src|proto|bench|test)\/|test\/|examples\/|cdk\.out\/|\.ci\/|\.moto\/|coverage\/)/.test(f) ||
      /\.test\.[jt]s$/.test(f) || /(^|\/)tsconfig[^/]*\.json$/.test(f) || f === 'provider/build.mjs' || f === 'cdk.json' ||
      f.endsWith('.sock') || (f.startsWith('lib/') && f.endsWith('.ts') && !f.endsWith('.d.ts')));
    expect(unwanted).toEqual([]);
  });
});
