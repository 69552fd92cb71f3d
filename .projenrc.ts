import { awscdk, javascript } from 'projen';

// The lowest aws-cdk-lib that has a stable `aws-eks-v2` and satisfies cdk-nag 3.
const CDK_VERSION = '2.257.0';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-eks-secrets-store',
  description:
    'Mount AWS Secrets Manager secrets and SSM parameters as files in Amazon EKS pods: the Secrets Store CSI driver, an AWS provider, least-privilege workload identity and the SecretProviderClass from one construct.',
  author: 'EKS Secrets Store contributors',
  authorAddress: 'maintainers@example.com',
  repositoryUrl: 'https://github.com/example/cdk-eks-secrets-store.git',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  github: false,
  release: false,
  minNodeVersion: '20.0.0',

  cdkVersion: CDK_VERSION,
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.0',
  typescriptVersion: '~6.0.3',

  srcdir: 'lib',
  libdir: 'out',
  entrypoint: 'out/index.js',

  keywords: [
    'awscdk',
    'cdk',
    'cdk8s',
    'eks',
    'kubernetes',
    'secrets-manager',
    'ssm',
    'secrets-store-csi-driver',
    'irsa',
    'pod-identity',
  ],
  stability: 'experimental',

  peerDeps: ['cdk8s@^2.70.0', 'cdk8s-plus-28@^2.5.6'],
  // Plain (non-jsii) runtime code of the library: shipped inside the package.
  // util-arn-parser: the last release before it pulled in @aws-sdk/core (3 MB in the package).
  bundledDeps: ['yaml@^2.9.1', '@aws-sdk/util-arn-parser@3.972.0', 'jmespath@^0.16.0'],
  devDeps: [
    // construct tests and the sample app
    'aws-cdk@^2.1148.0',
    '@aws-cdk/lambda-layer-kubectl-v33',
    'cdk-nag@^3.0.2',
    // the provider and the doctor: bundled by esbuild, never library deps
    '@grpc/grpc-js@^1.14.0',
    '@grpc/proto-loader@^0.8.0',
    '@aws-sdk/client-secrets-manager',
    '@aws-sdk/client-ssm',
    '@aws-sdk/client-sts',
    '@aws-sdk/client-iam',
    '@aws-sdk/client-eks',
    '@smithy/node-http-handler',
    '@kubernetes/client-node@~1.4.0',
    'pino@^10',
    'prom-client@^15',
    '@types/jmespath',
    'jsonwebtoken@^9',
    '@types/jsonwebtoken',
    'commander@^14',
    'esbuild@^0.28.0',
    // tests
    '@swc/core',
    '@swc/jest',
  ],

  publishToPypi: {
    distName: 'cdk-eks-secrets-store',
    module: 'cdk_eks_secrets_store',
  },
  publishToMaven: {
    javaPackage: 'io.github.cdkekssecretsstore',
    mavenGroupId: 'io.github.cdkekssecretsstore',
    mavenArtifactId: 'cdk-eks-secrets-store',
  },
  publishToGo: {
    moduleName: 'github.com/example/cdk-eks-secrets-store-go',
  },

  tsJestOptions: { transformPattern: '^.+\\.tsx?$' },
  jestOptions: {

    jestConfig: {
      transform: { '^.+\\.tsx?$': new javascript.Transform('@swc/jest', {}) },
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/cdk.out/'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFiles: ['<rootDir>/test/support/env.ts'],
      testTimeout: 60_000,
      collectCoverage: false,

    },
  },
  tsconfigDev: {
    include: ['../lib/**/*.ts', '../provider/**/*.ts', '../examples/**/*.ts'],
    // The README's usage example (examples/usage.ts) imports the package by name.
    compilerOptions: { paths: { 'cdk-eks-secrets-store': ['../lib/index.ts'] } },
  },
  eslintOptions: {
    dirs: ['lib'],
    devdirs: ['test', 'examples', 'provider/src', 'provider/bench'],
    fileExtensions: ['.ts', '.tsx', '.mts'],
  },

  bin: { 'secrets-store-doctor': 'provider/dist/doctor.js' },
  npmignoreEnabled: true,
  gitignore: ['cdk.out/', 'cdk.context.json', 'provider/dist/', '.moto/', '*.sock'],
});

// Jest: transpile with swc (fast; type errors are caught by `tsc` in the test task).
project.tryFindObjectFile('package.json')?.addOverride('jest.maxWorkers', 1);
project.tryFindObjectFile('package.json')?.addOverride('jest.reporters', ['default', '<rootDir>/test/support/summary-reporter.js']);

// The package ships the library, the provider bundle with its Dockerfile, and
// the doctor bundle; never sources of the provider, tests, or the sample app.
for (const pattern of [
  '/cdk.out/',
  '/cdk.json',
  '/examples/',
  '/provider/src/',
  '/provider/proto/',
  '/provider/test/',
  '/provider/tsconfig.json',
  '/provider/build.mjs',
  '/provider/bench/',
  '/.ci/',
  '/.moto/',
  '*.sock',
  '/coverage/',
  // re-include what the bundled provider mode needs (after the generic `dist`)
  '!/provider/Dockerfile',
  '!/provider/dist/main.js',
  '!/provider/dist/kube-client.js',
  '!/provider/dist/ssm-sdk.js',
  '!/provider/dist/doctor.js',
  '!/provider/dist/*.proto',
]) {
  project.addPackageIgnore(pattern);
}

// Provider and doctor bundles (esbuild): built before tests and before packaging.
const bundle = project.addTask('bundle', {
  description: 'Bundle the provider and the doctor CLI with esbuild',
  exec: 'node provider/build.mjs',
});
project.preCompileTask.spawn(bundle);
project.testTask.prependSpawn(bundle);
project.testTask.prependExec('tsc --noEmit -p test/tsconfig.json');

project.addTask('bench', { description: 'Provider benchmark (prints figures)', exec: 'ts-node --transpile-only provider/bench/bench.ts' });
project.addTask('demo', { description: 'End to end on this machine: sample app synth -> moto -> provider -> files in pod my-app (args: irsa | pod-identity | all)', exec: 'ts-node --transpile-only test/e2e/demo.ts', receiveArgs: true, env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' } });
// The README's usage example imports the package by its published name
// (resolved through tsconfig paths for the type check).
project.eslint?.addOverride({ files: ['examples/usage.ts'], rules: { 'import/no-unresolved': 'off' } });

project.addTask('synth:example', {
  description: 'Synthesize the sample app in examples/',
  exec: 'cdk synth --quiet',
});

project.synth();
