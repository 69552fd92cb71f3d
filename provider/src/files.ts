import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { search } from 'jmespath';
import { clause, MountError } from './errors';
import { FetchedValue } from './fetched';
import { jmesPathHint, MountObject } from '../../lib/contract';

/** A file of the MountResponse. */
export interface MountFile {
  /** Relative path inside the mount. */
  readonly path: string;
  /** Decimal mode, 0..511. */
  readonly mode: number;
  readonly contents: Buffer;
}

/** An entry of MountResponse.object_version: file name and the version it holds. */
export interface ObjectVersion {
  readonly id: string;
  readonly version: string;
}

/** What the driver receives: every file and the version of each. */
export interface MountOutput {
  readonly files: MountFile[];
  readonly versions: ObjectVersion[];
}

function invalid(message: string, reason: string): MountError {
  return new MountError(status.INVALID_ARGUMENT, message, reason);
}

/** Parses a secret as JSON for its jmesPath entries. The error never quotes the value. */
function parseJsonSecret(o: MountObject, value: FetchedValue): unknown {
  try {
    return JSON.parse(value.bytes.toString('utf8'));
  } catch {
    throw invalid(`objects[${o.index}] "${o.name}" (version ${value.version}) is not valid JSON, so its jmesPath entries cannot be read. `
      + 'Fix: store the secret as a JSON object, or remove jmesPath from this object. (This is not a permission problem.)', 'SecretNotJson');
  }
}

/** The fix for a jmesPath entry: the quoted form when keys with hyphens are the likely cause (as lib/contract words it). */
function jmesPathFix(entryPath: string, otherwise: string): string {
  const hint = jmesPathHint(entryPath);
  return hint ? `Quote keys that contain a hyphen: path: '${hint}'.` : otherwise;
}

/** "a list", "an object", "a number": what a jmesPath result is, for the message. */
function describe(result: unknown): string {
  const kind = Array.isArray(result) ? 'list' : typeof result;
  return `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}`;
}

/** Evaluates one jmesPath entry; contract rule 7: the result must be a string. */
function evaluate(o: MountObject, entryPath: string, json: unknown): string {
  const subject = `objects[${o.index}] "${o.name}": jmesPath "${entryPath}"`;
  let result: unknown;
  try {
    result = search(json as any, entryPath);
  } catch (err) {
    // With a hint, the parser's own words ("Unexpected token type: Number, value: NaN") only confuse.
    const fix = jmesPathFix(entryPath, '');
    const why = fix ? 'because keys with hyphens must be quoted' : `(${clause((err as Error).message)})`;
    throw invalid(`${subject} cannot be evaluated ${why}. Fix: ${fix || 'correct the expression.'} (This is not a permission problem.)`, 'JmesPath');
  }
  if (typeof result === 'string') return result;
  const got = result === null ? 'nothing (null): the key is absent' : `${describe(result)}, not a string`;
  const fix = result === null ? jmesPathFix(entryPath, 'point the path at a string value in the secret.') : 'point the path at a string value in the secret.';
  throw invalid(`${subject} gives ${got}. Fix: ${fix} (This is not a permission problem.)`, 'JmesPath');
}

/**
 * Builds the response: one file per object plus one per jmesPath entry, each
 * reported in `versions` with its object's version. Throws before returning
 * anything when a jmesPath entry fails (all or nothing).
 */
export function buildOutput(objects: readonly MountObject[], values: ReadonlyMap<number, FetchedValue>, defaultMode: number): MountOutput {
  const files: MountFile[] = [];
  const versions: ObjectVersion[] = [];
  for (const o of objects) {
    const value = values.get(o.index)!;
    files.push({ path: o.fileName, mode: o.mode ?? defaultMode, contents: value.bytes });
    versions.push({ id: o.fileName, version: value.version });
    if (o.jmesPath.length === 0) continue;
    const json = parseJsonSecret(o, value);
    for (const entry of o.jmesPath) {
      files.push({ path: entry.fileName, mode: entry.mode ?? o.mode ?? defaultMode, contents: Buffer.from(evaluate(o, entry.path, json), 'utf8') });
      versions.push({ id: entry.fileName, version: value.version });
    }
  }
  return { files, versions };
}

/** Resolves a file name inside the mount, refusing anything that would land outside it. */
function inside(targetPath: string, fileName: string): string {
  const full = path.resolve(targetPath, fileName);
  if (!full.startsWith(path.resolve(targetPath) + path.sep)) {
    throw invalid(`File "${fileName}" would land outside the mount ${targetPath}. Fix: use a plain relative objectAlias.`, 'FileName');
  }
  return full;
}

/**
 * Reads the files an object already has in the volume (for a remount whose
 * pinned version is unchanged). Returns undefined when any is missing, so the
 * object is fetched again.
 */
export async function readFromVolume(targetPath: string, fileNames: readonly string[]): Promise<Buffer[] | undefined> {
  try {
    const root = await fs.realpath(targetPath);
    return await Promise.all(fileNames.map(async (f) => {
      // A link that leads out of the mount (planted through a writable volume) is never followed.
      const real = await fs.realpath(inside(targetPath, f));
      if (!real.startsWith(root + path.sep) || !(await fs.stat(real)).isFile()) throw new Error(`${f} leaves the mount`);
      return fs.readFile(real);
    }));
  } catch {
    return undefined;
  }
}

/** The link through which the mounted names point at the current set of files. */
const DATA_LINK = '..data';

/**
 * Writes the files into the mount, for drivers that expect the provider to,
 * so that a reader sees the whole old set or the whole new one, never a mix
 * (the scheme of Kubernetes' own secret volumes):
 * 1. the set is written into a new hidden directory `..<time>`;
 * 2. the link `..data` is switched to it with one rename;
 * 3. every top-level name is a link through `..data`; names no longer mounted are removed;
 * 4. the previous set's directory is removed.
 */
export async function writeFiles(targetPath: string, files: readonly MountFile[]): Promise<void> {
  const tops = new Set(files.map((f) => f.path.split('/')[0]));
  for (const top of tops) {
    if (top.startsWith('..')) {
      throw invalid(`File "${top}" starts with "..", which the provider's own file writer reserves. Fix: choose another objectAlias.`, 'FileName');
    }
  }

  // 1. The whole set, in a directory no reader looks at yet.
  const version = `..${new Date().toISOString().replace(/[:.]/g, '_')}.${randomBytes(4).toString('hex')}`;
  const versionDir = path.join(targetPath, version);
  try {
    await fs.mkdir(versionDir, { mode: 0o755 });
    for (const file of files) {
      const full = inside(versionDir, file.path);
      await fs.mkdir(path.dirname(full), { recursive: true });
      await fs.writeFile(full, file.contents, { mode: file.mode });
      await fs.chmod(full, file.mode);
    }
  } catch (err) {
    await fs.rm(versionDir, { recursive: true, force: true });
    if (err instanceof MountError) throw err;
    throw new MountError(status.INTERNAL, `Writing files into ${targetPath} failed: ${clause((err as Error).message)}.`, 'WriteFailed');
  }

  // 2. One rename switches every name to the new set.
  const dataLink = path.join(targetPath, DATA_LINK);
  const previous = await fs.readlink(dataLink).catch(() => undefined);
  const nextLink = path.join(targetPath, `${DATA_LINK}_tmp`);
  await fs.rm(nextLink, { force: true });
  await fs.symlink(version, nextLink);
  await fs.rename(nextLink, dataLink);

  // 3. Mounted names point through ..data; names of an earlier set that are gone are removed.
  for (const top of tops) await linkThroughData(targetPath, top);
  for (const entry of await fs.readdir(targetPath)) {
    if (!entry.startsWith('..') && !tops.has(entry)) await removeIfOurs(path.join(targetPath, entry));
  }

  // 4. The previous set is no longer reachable.
  if (previous && previous !== version && previous.startsWith('..')) {
    await fs.rm(path.join(targetPath, previous), { recursive: true, force: true });
  }
}

async function linkThroughData(targetPath: string, top: string): Promise<void> {
  const link = path.join(targetPath, top);
  const existing = await fs.lstat(link).catch(() => undefined);
  if (existing?.isSymbolicLink() && (await fs.readlink(link)) === path.join(DATA_LINK, top)) return;
  // A plain file or directory left by a writer that did not use ..data is replaced once.
  if (existing) await fs.rm(link, { recursive: true, force: true });
  await fs.symlink(path.join(DATA_LINK, top), link);
}

/** Removes a name only when it is one of our links through ..data. */
async function removeIfOurs(entry: string): Promise<void> {
  const target = await fs.readlink(entry).catch(() => undefined);
  if (target?.startsWith(`${DATA_LINK}/`)) await fs.rm(entry, { force: true });
}
