import { parse as parseArnString, validate as validArn } from '@aws-sdk/util-arn-parser';
import { ContractError } from './problems';

/** The parts of an ARN. */
export interface ParsedArn {
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly accountId: string;
  readonly resource: string;
}

/** True when the value has the shape of an ARN (`arn:partition:service:region:account:resource`). */
export function isArn(value: string): boolean {
  return validArn(value);
}

/** Splits an ARN; undefined when the value is not one. */
export function parseArn(value: string): ParsedArn | undefined {
  if (!isArn(value)) return undefined;
  const { partition, service, region, accountId, resource } = parseArnString(value);
  return { partition, service, region, accountId, resource };
}

// The spellings Go's strconv.ParseBool accepts, which the AWS provider uses.
const TRUE_FORMS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_FORMS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Parses a boolean string in the forms the AWS provider accepts; undefined for anything else. */
export function parseBool(value: string): boolean | undefined {
  if (TRUE_FORMS.has(value)) return true;
  if (FALSE_FORMS.has(value)) return false;
  return undefined;
}

/** The longest file name (one path element) Linux file systems take, in bytes. */
const MAX_FILE_NAME_BYTES = 255;

/** The default character that replaces `/` in file names. */
export const DEFAULT_PATH_TRANSLATION = '_';

/**
 * Turns an object name or alias into the file name it is mounted as: with
 * translation on, every `/` becomes the translation character; with it off,
 * leading `/` are dropped. Throws a ContractError for names that would be
 * empty or could leave the mount (`.`, `..`, a `..` element).
 */
export function translateFileName(name: string, translation: string | false): string {
  const fileName = translation === false ? name.replace(/^\/+/, '') : name.split('/').join(translation);
  const problem = unsafeFileNameReason(fileName);
  if (problem) {
    throw new ContractError([{
      rule: 'file-name',
      subject: `file "${name}"`,
      message: `mounts as "${fileName}", which ${problem}.`,
      fix: 'Give the object an objectAlias that is a plain relative file name, e.g. "db-password".',
    }]);
  }
  return fileName;
}

function unsafeFileNameReason(fileName: string): string | undefined {
  if (fileName === '') return 'is empty';
  if (fileName.includes('\0')) return 'contains a NUL character';
  const elements = fileName.split('/');
  if (elements.some((e) => e === '..')) return 'has a ".." element and would land outside the mount';
  if (fileName === '.' || elements.every((e) => e === '.' || e === '')) return 'names the mount directory itself';
  if (elements.some((e) => e === '')) return 'has an empty path element';
  const long = elements.find((e) => Buffer.byteLength(e, 'utf8') > MAX_FILE_NAME_BYTES);
  if (long) return `has a name of ${Buffer.byteLength(long, 'utf8')} bytes, over the ${MAX_FILE_NAME_BYTES} a file system allows`;
  return undefined;
}
