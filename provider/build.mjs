// Bundles the provider (and the doctor CLI, when present) with esbuild, so the
// image and the npm package need no node_modules: `node provider/build.mjs`.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const version = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8')).version;

/**
 * node-fetch 2 (used by the Kubernetes client) takes `URL` from node:url and only
 * falls back to whatwg-url on runtimes without one, which Node 20 is not. The
 * fallback's import alone parses tr46's Unicode table: ~7 MB of RSS for nothing.
 */
const nodeFetchUsesNodeUrl = {
  name: 'node-fetch-uses-node-url',
  setup(b) {
    b.onResolve({ filter: /^whatwg-url$/ }, (args) =>
      (/[\\/]node_modules[\\/]node-fetch[\\/]/.test(args.importer) ? { path: 'node:url', external: true } : undefined));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // Class names are used for AWS action names in logs and metrics.
  keepNames: true,
  // Smaller source to parse and hold in memory (the Kubernetes client alone is ~14 MB unminified).
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  define: { __PROVIDER_VERSION__: JSON.stringify(version) },
  // Prefer packages' ES module builds (the AWS SDK's among them): esbuild can drop
  // what is not imported from those, not from CommonJS (start-up ~300 -> ~210 ms).
  mainFields: ['module', 'main'],
  plugins: [nodeFetchUsesNodeUrl],
};

/**
 * Leaves `import('./kube-client.mjs')` to run time as `./kube-client.js` next to
 * main.js: the Kubernetes client is bundled on its own (below), because code in
 * a bundle costs memory even when it never runs.
 */
const kubeClientApart = {
  name: 'kube-client-apart',
  setup(b) {
    b.onResolve({ filter: /^\.\/kube-client\.mjs$/ }, () => ({ path: './kube-client.js', external: true }));
  },
};

/**
 * Leaves `import('./ssm-sdk.js')` to run time, next to main.js: the SSM
 * client is bundled on its own (below) and loaded on the first SSM call, for the same
 * reason (see src/ssm-sdk.ts).
 */
const ssmApart = {
  name: 'ssm-apart',
  setup(b) {
    b.onResolve({ filter: /^\.\/ssm-sdk\.js$/ }, () => ({ path: './ssm-sdk.js', external: true }));
  },
};

mkdirSync(dist, { recursive: true });
await build({ ...common, entryPoints: [join(here, 'src', 'main.ts')], outfile: join(dist, 'main.js'), plugins: [...common.plugins, kubeClientApart, ssmApart] });
await build({ ...common, entryPoints: [join(here, 'src', 'kube-client.mts')], outfile: join(dist, 'kube-client.js') });
await build({ ...common, entryPoints: [join(here, 'src', 'ssm-sdk.ts')], outfile: join(dist, 'ssm-sdk.js') });
// The gRPC service definition is loaded at run time from next to the bundle.
copyFileSync(join(here, 'proto', 'csi-provider.proto'), join(dist, 'csi-provider.proto'));

const doctor = join(here, 'src', 'doctor', 'cli.ts');
if (existsSync(doctor)) {
  await build({ ...common, entryPoints: [doctor], outfile: join(dist, 'doctor.js'), banner: { js: '#!/usr/bin/env node' } });
} else {
  console.log('provider/build.mjs: provider/src/doctor/cli.ts not found; doctor bundle skipped.');
}
