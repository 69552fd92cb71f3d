import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { search } from 'jmespath';
import { MountError } from './errors';
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

/** Evaluates one jmesPath entry; contract rule 7: the result must be a string. */
function evaluate(o: MountObject, entryPath: string, json: unknown): string {
  let result: unknown;
  try {
    result = search(json as any, entryPath);
  } catch (err) {
    const hint = jmesPathHint(entryPath);
    throw invalid(`objects[${o.index}] "${o.name}": jmesPath "${entryPath}" cannot be evaluated (${(err as Error).message}). `
      + `Fix: ${hint ? `quote keys with hyphens: ${hint}` : 'correct the expression'}. (This is not a permission problem.)`, 'JmesPath');
  }
  if (typeof result === 'string') return result;
  const hint = result === null ? jmesPathHint(entryPath) : undefined;
  const got = result === null ? 'nothing (null): the key is absent' : `a ${Array.isArray(result) ? 'list' : typeof result}, not a string`;
  throw invalid(`objects[${o.index}] "${o.name}": jmesPath "${entryPath}" gives ${got}. `
    + `Fix: ${hint ? `quote keys with hyphens: ${hint}` : 'point the path at a string value in the secret'}. (This is not a permission problem.)`, 'JmesPath');
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
    return await Promise.all(fileNames.map((f) => fs.readFile(inside(targetPath, f))));
  } catch {
    return undefined;
  }
}

/**
 * Writes the files into the mount, for drivers that expect the provider to:
 * every file goes to a temporary name first, and only when all are written are
 * they renamed into place (each rename is atomic).
 */
export async function writeFiles(targetPath: string, files: readonly MountFile[]): Promise<void> {
  const suffix = `.tmp-${randomBytes(6).toString('hex')}`;
  const staged: Array<[string, string]> = [];
  try {
    for (const file of files) {
      const final = inside(targetPath, file.path);
      await fs.mkdir(path.dirname(final), { recursive: true });
      await fs.writeFile(final + suffix, file.contents, { mode: file.mode });
      await fs.chmod(final + suffix, file.mode);
      staged.push([final + suffix, final]);
    }
  } catch (err) {
    await Promise.all(staged.map(([tmp]) => fs.rm(tmp, { force: true })));
    throw new MountError(status.INTERNAL, `Writing files into ${targetPath} failed: ${(err as Error).message}.`, 'WriteFailed');
  }
  for (const [tmp, final] of staged) await fs.rename(tmp, final);
}
