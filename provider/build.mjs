// Bundles the provider (and the doctor CLI, when present) with esbuild, so the
// image and the npm package need no node_modules: `node provider/build.mjs`.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const version = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8')).version;

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
};

mkdirSync(dist, { recursive: true });
await build({ ...common, entryPoints: [join(here, 'src', 'main.ts')], outfile: join(dist, 'main.js') });
// The gRPC service definition is loaded at run time from next to the bundle.
copyFileSync(join(here, 'proto', 'csi-provider.proto'), join(dist, 'csi-provider.proto'));

const doctor = join(here, 'src', 'doctor', 'cli.ts');
if (existsSync(doctor)) {
  await build({ ...common, entryPoints: [doctor], outfile: join(dist, 'doctor.js'), banner: { js: '#!/usr/bin/env node' } });
} else {
  console.log('provider/build.mjs: provider/src/doctor/cli.ts not found; doctor bundle skipped.');
}
