import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.join(REPO_ROOT, 'provider', 'dist');

/** Every file `provider/build.mjs` writes; the image and the npm package need all of them. */
export const BUNDLE_FILES = ['main.js', 'kube-client.js', 'ssm-sdk.js', 'csi-provider.proto', 'doctor.js'].map((f) => path.join(DIST, f));

/** Where the bundles come from: their sources and the build script. */
const SOURCES = ['provider/src', 'provider/proto', 'provider/build.mjs', 'lib/contract'].map((p) => path.join(REPO_ROOT, p));

function newestMtime(target: string): number {
  const stat = fs.statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return fs.readdirSync(target).reduce((newest, entry) => Math.max(newest, newestMtime(path.join(target, entry))), stat.mtimeMs);
}

/**
 * Runs provider/build.mjs when any bundle is missing or older than its sources
 * (or PROVIDER_REBUILD=1), so a test never runs yesterday's provider or doctor.
 */
export function ensureBundles(): void {
  const sources = Math.max(...SOURCES.map(newestMtime));
  const stale = BUNDLE_FILES.some((f) => !fs.existsSync(f) || fs.statSync(f).mtimeMs < sources);
  if (stale || process.env.PROVIDER_REBUILD === '1') {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'provider', 'build.mjs')], { cwd: REPO_ROOT, stdio: 'pipe' });
  }
}
