import { jmesPathHint, jmesPathSyntaxError } from './jmespath';
import { isArn, ParsedArn, parseArn, translateFileName } from './names';
import { ContractError, ContractProblem } from './problems';

/** The two kinds of object an AWS SecretProviderClass mounts. */
export type ObjectType = 'secretsmanager' | 'ssmparameter';

/** The `objectType` values, in the spelling the class uses. */
export const OBJECT_TYPES: readonly ObjectType[] = ['secretsmanager', 'ssmparameter'];

/** A file cut out of a JSON secret by a `jmesPath` entry. */
export interface JmesPathFile {
  readonly path: string;
  readonly alias: string;
  readonly fileName: string;
  readonly mode?: number;
}

/** The object read in the failover region instead of the primary one. */
export interface FailoverObject {
  readonly name: string;
  readonly arn?: ParsedArn;
  readonly version?: string;
  readonly versionLabel?: string;
}

/** One validated entry of `objects`. */
export interface MountObject {
  /** Position in `objects`. */
  readonly index: number;
  readonly type: ObjectType;
  /** `objectName` as written: a name or an ARN. */
  readonly name: string;
  readonly arn?: ParsedArn;
  /** `objectAlias`, else the object name. */
  readonly alias: string;
  /** The alias after path translation: relative and inside the mount. */
  readonly fileName: string;
  readonly version?: string;
  readonly versionLabel?: string;
  /** File mode from `filePermission`; undefined means the request's default. */
  readonly mode?: number;
  readonly jmesPath: JmesPathFile[];
  readonly failover?: FailoverObject;
}

/** What object validation needs to know about the class. */
export interface ObjectContext {
  /** The primary region, when known and resolved. */
  readonly region?: string;
  readonly failoverRegion?: string;
  /** Path translation; undefined when it cannot be known yet (an unresolved token). */
  readonly pathTranslation?: string | false;
  readonly isUnresolved: (value: string) => boolean;
}

const KNOWN_OBJECT_KEYS = new Set([
  'objectName', 'objectType', 'objectAlias', 'objectVersion', 'objectVersionLabel',
  'filePermission', 'jmesPath', 'failoverObject',
]);
const KNOWN_FAILOVER_KEYS = new Set(['objectName', 'objectVersion', 'objectVersionLabel']);
const KNOWN_JMESPATH_KEYS = new Set(['path', 'objectAlias', 'filePermission']);

type Mapping = Record<string, unknown>;

function describeChars(chars: string[]): string {
  const shown = chars.map((c) => (/\s/.test(c) ? `whitespace (${JSON.stringify(c)})` : `"${c}"`));
  return `the character${chars.length > 1 ? 's' : ''} ${shown.join(', ')}`;
}

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads an optional string field; an empty string counts as absent. */
function optionalString(entry: Mapping, key: string): string | undefined {
  const value = entry[key];
  if (value === undefined || value === null || value === '') return undefined;
  return typeof value === 'string' ? value : undefined;
}

/** Collects the problems of one class while its objects are read. */
class ObjectReader {
  public readonly problems: ContractProblem[] = [];
  public readonly warnings: ContractProblem[] = [];

  constructor(private readonly ctx: ObjectContext) {}

  public read(entries: unknown[]): MountObject[] {
    const objects: MountObject[] = [];
    entries.forEach((entry, index) => {
      const object = this.readObject(entry, index);
      if (object) objects.push(object);
    });
    this.checkDuplicateFiles(objects);
    return objects;
  }

  private problem(rule: string, subject: string, message: string, fix: string): void {
    this.problems.push({ rule, subject, message, fix });
  }

  private unknownKeys(entry: Mapping, known: Set<string>, subject: string): void {
    for (const key of Object.keys(entry)) {
      if (!known.has(key)) {
        this.warnings.push({
          rule: 'unknown-field',
          subject,
          message: `has the field "${key}", which the provider ignores.`,
          fix: `Remove it or correct its spelling (known fields: ${[...known].join(', ')}).`,
        });
      }
    }
  }

  private readObject(entry: unknown, index: number): MountObject | undefined {
    // Rule 1: every entry is a mapping.
    if (!isMapping(entry)) {
      this.problem('object-entry', `objects[${index}]`, `is ${entry === null || entry === '' ? 'empty' : `not a mapping (${JSON.stringify(entry)})`}.`,
        'Write each entry as a mapping, e.g. "- objectName: my-secret\\n  objectType: secretsmanager", and remove empty "-" lines.');
      return undefined;
    }

    // Rule 2: a name, and a type given or implied by an ARN.
    const name = optionalString(entry, 'objectName');
    if (!name) {
      this.problem('object-name', `objects[${index}]`, 'has no objectName.', 'Add objectName: the secret or parameter name, or its full ARN.');
      return undefined;
    }
    const subject = `objects[${index}] "${name}"`;
    this.unknownKeys(entry, KNOWN_OBJECT_KEYS, subject);
    const arn = this.readArn(name, subject, this.ctx.region, 'region');
    const type = this.readType(entry, arn, subject);
    if (!type) return undefined;
    if (arn) this.checkArnService(arn, type, subject);
    this.checkName(name, arn, type, subject);

    // Rule 4: SSM takes a version or a label, not both; a version is a number.
    const version = optionalString(entry, 'objectVersion');
    const versionLabel = optionalString(entry, 'objectVersionLabel');
    if (type === 'ssmparameter') this.checkSsmVersion(version, subject);
    if (type === 'ssmparameter' && version && versionLabel) {
      this.problem('ssm-version-and-label', subject, `gives both objectVersion "${version}" and objectVersionLabel "${versionLabel}".`,
        'Keep one of them: SSM reads a parameter by version or by label.');
    }

    // Rules 5, 6, 7, 9: the file, its mode, jmesPath files, the failover object.
    const alias = optionalString(entry, 'objectAlias') ?? name;
    const fileName = this.fileName(alias, subject);
    const mode = this.fileMode(entry.filePermission, subject);
    const jmesPath = this.readJmesPath(entry.jmesPath, subject);
    const failover = this.readFailover(entry, type, version, subject);

    return { index, type, name, arn, alias, fileName, version, versionLabel, mode, jmesPath, failover };
  }

  private readArn(name: string, subject: string, expectedRegion: string | undefined, regionParameter: string): ParsedArn | undefined {
    if (!name.startsWith('arn:')) return undefined;
    const arn = isArn(name) ? parseArn(name) : undefined;
    if (!arn) {
      this.problem('object-arn', subject, `is not a valid ARN ("${name}").`,
        'Write the full ARN (arn:<partition>:<service>:<region>:<account>:<resource>) or the plain name.');
      return undefined;
    }
    // Rule 3: an ARN names its region, which must be the one the object is read in.
    const known = (v: string | undefined): v is string => !!v && !this.ctx.isUnresolved(v);
    if (known(expectedRegion) && known(arn.region) && arn.region !== expectedRegion) {
      this.problem('arn-region', subject, `is in region ${arn.region}, but is read in ${regionParameter === 'region' ? 'the primary region' : 'the failover region'} ${expectedRegion}.`,
        `Set ${regionParameter}: "${arn.region}" on the class, or use the ARN of the copy in ${expectedRegion}.`);
    }
    return arn;
  }

  private readType(entry: Mapping, arn: ParsedArn | undefined, subject: string): ObjectType | undefined {
    const given = optionalString(entry, 'objectType');
    if (given !== undefined && !(OBJECT_TYPES as readonly string[]).includes(given)) {
      this.problem('object-type', subject, `has objectType "${given}", which is not a known type.`,
        'Use objectType: secretsmanager (Secrets Manager) or ssmparameter (SSM Parameter Store).');
      return undefined;
    }
    const implied = arn ? this.typeOfArn(arn) : undefined;
    if (given && implied && given !== implied) {
      this.problem('object-type', subject, `has objectType "${given}" but its ARN is of the ${arn!.service} service.`,
        `Set objectType: ${implied}, or name an object of the ${given} service.`);
      return undefined;
    }
    if (!given && !implied) {
      this.problem('object-type', subject, arn ? `is an ARN of the "${arn.service}" service, which the provider cannot read.` : 'has no objectType.',
        'Add objectType: secretsmanager or ssmparameter (it may be left out only when objectName is a Secrets Manager or SSM ARN).');
      return undefined;
    }
    return (given ?? implied) as ObjectType;
  }

  private typeOfArn(arn: ParsedArn): ObjectType | undefined {
    if (this.ctx.isUnresolved(arn.service)) return undefined;
    if (arn.service === 'secretsmanager') return 'secretsmanager';
    if (arn.service === 'ssm') return 'ssmparameter';
    return undefined;
  }

  private checkArnService(arn: ParsedArn, type: ObjectType, subject: string): void {
    if (this.ctx.isUnresolved(arn.resource)) return;
    const prefix = type === 'secretsmanager' ? 'secret:' : 'parameter';
    if (!arn.resource.startsWith(prefix)) {
      this.problem('object-arn', subject, `is not the ARN of ${type === 'secretsmanager' ? 'a secret' : 'a parameter'} (resource "${arn.resource}").`,
        type === 'secretsmanager' ? 'Use an ARN of the form arn:<partition>:secretsmanager:<region>:<account>:secret:<name>.' : 'Use an ARN of the form arn:<partition>:ssm:<region>:<account>:parameter/<name>.');
    }
  }

  /**
   * Names hold only the characters the service allows. Wildcards matter most:
   * a name with `*` or `?` cannot exist, and would widen an IAM grant built from it.
   */
  private checkName(name: string, arn: ParsedArn | undefined, type: ObjectType, subject: string): void {
    if (this.ctx.isUnresolved(name)) return;
    if (arn) {
      const wild = [...new Set(name.match(/[*?\s]/g) ?? [])];
      if (wild.length > 0) {
        this.problem('object-name', subject, `is an ARN with ${describeChars(wild)}, which no secret or parameter ARN has.`,
          'Name one object by its exact ARN: wildcards are not allowed.');
      }
      return;
    }
    const allowed = type === 'secretsmanager' ? /[A-Za-z0-9/_+=.@-]/ : /[A-Za-z0-9/_.-]/;
    const bad = [...new Set([...name].filter((c) => !allowed.test(c)))];
    if (bad.length > 0) {
      this.problem('object-name', subject, `has ${describeChars(bad)}, which ${type === 'secretsmanager' ? 'Secrets Manager secret' : 'SSM parameter'} names cannot contain.`,
        type === 'secretsmanager'
          ? 'Use the exact secret name (letters, digits and / _ + = . @ -) or its full ARN; wildcards are not allowed.'
          : 'Use the exact parameter name (letters, digits and / _ . -) or its full ARN; wildcards are not allowed.');
    }
  }

  private checkSsmVersion(version: string | undefined, subject: string): void {
    if (version === undefined || this.ctx.isUnresolved(version) || /^[1-9][0-9]*$/.test(version)) return;
    this.problem('ssm-version', subject, `has objectVersion "${version}", but SSM parameter versions are whole numbers.`,
      'Give the version number (e.g. objectVersion: "3"), or use objectVersionLabel for a label.');
  }

  /** Rule 5: the file name after translation; undefined names are skipped at synth. */
  private fileName(alias: string, subject: string): string {
    if (this.ctx.pathTranslation === undefined || this.ctx.isUnresolved(alias)) return alias;
    try {
      return translateFileName(alias, this.ctx.pathTranslation);
    } catch (e) {
      if (!(e instanceof ContractError)) throw e;
      for (const p of e.problems) this.problems.push({ ...p, subject: `${subject} (${p.subject})` });
      return alias;
    }
  }

  /** Rule 6: exactly four octal digits. */
  private fileMode(value: unknown, subject: string): number | undefined {
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value === 'string' && this.ctx.isUnresolved(value)) return undefined;
    if (typeof value !== 'string' || !/^[0-7]{4}$/.test(value)) {
      this.problem('file-permission', subject, `has filePermission ${JSON.stringify(value)}, which is not four octal digits.`,
        'Write the mode as four octal digits in quotes, e.g. filePermission: "0400".');
      return undefined;
    }
    return parseInt(value, 8);
  }

  /** Rule 7: each jmesPath entry has a valid path and an alias. */
  private readJmesPath(value: unknown, subject: string): JmesPathFile[] {
    if (value === undefined || value === null || value === '') return [];
    if (!Array.isArray(value)) {
      this.problem('jmespath-entry', subject, 'has a jmesPath that is not a list.', 'Write jmesPath as a list of {path, objectAlias} entries.');
      return [];
    }
    const files: JmesPathFile[] = [];
    value.forEach((entry, i) => {
      const where = `${subject} jmesPath[${i}]`;
      if (!isMapping(entry)) {
        this.problem('jmespath-entry', where, 'is not a mapping.', 'Write each entry as "- path: <expression>\\n  objectAlias: <file name>".');
        return;
      }
      this.unknownKeys(entry, KNOWN_JMESPATH_KEYS, where);
      const path = optionalString(entry, 'path');
      const alias = optionalString(entry, 'objectAlias');
      if (!path || !alias) {
        this.problem('jmespath-entry', where, `has no ${!path ? 'path' : 'objectAlias'}.`, 'Give every jmesPath entry both a path (a JMESPath expression) and an objectAlias (its file name).');
        return;
      }
      this.checkJmesPathSyntax(path, where);
      files.push({ path, alias, fileName: this.fileName(alias, where), mode: this.fileMode(entry.filePermission, where) });
    });
    return files;
  }

  private checkJmesPathSyntax(path: string, where: string): void {
    if (this.ctx.isUnresolved(path)) return;
    const error = jmesPathSyntaxError(path);
    if (!error) return;
    const hint = jmesPathHint(path);
    if (hint) {
      this.problem('jmespath-syntax', where, `has the path "${path}", which JMESPath cannot read: it takes "-" for a minus sign, so a key with a hyphen must be quoted.`,
        `Quote keys that contain a hyphen: path: '${hint}'.`);
    } else {
      this.problem('jmespath-syntax', where, `has the path "${path}", which is not a valid JMESPath expression (${error}).`,
        'Correct the expression; see https://jmespath.org/specification.html.');
    }
  }

  /** Rule 9: the failover object needs an alias, a failover region and the same pinned version. */
  private readFailover(entry: Mapping, type: ObjectType, version: string | undefined, subject: string): FailoverObject | undefined {
    const value = entry.failoverObject;
    if (value === undefined || value === null || value === '') return undefined;
    const where = `${subject} failoverObject`;
    if (!isMapping(value)) {
      this.problem('failover-object', where, 'is not a mapping.', 'Write failoverObject as {objectName, objectVersion?, objectVersionLabel?}.');
      return undefined;
    }
    this.unknownKeys(value, KNOWN_FAILOVER_KEYS, where);
    const name = optionalString(value, 'objectName');
    if (!name) {
      this.problem('failover-object', where, 'has no objectName.', 'Name the object to read in the failover region (name or ARN).');
      return undefined;
    }
    if (!optionalString(entry, 'objectAlias')) {
      this.problem('failover-object', subject, 'has a failoverObject but no objectAlias.', 'Add an objectAlias: the primary and failover objects may differ in name, so the file name must be given.');
    }
    if (!this.ctx.failoverRegion) {
      this.problem('failover-object', subject, 'has a failoverObject, but the class sets no failoverRegion.', 'Set the failoverRegion parameter on the class, or remove the failoverObject.');
    }
    const failoverVersion = optionalString(value, 'objectVersion');
    const failoverLabel = optionalString(value, 'objectVersionLabel');
    if (failoverVersion && failoverVersion !== version) {
      this.problem('failover-object', where, `has objectVersion "${failoverVersion}", but the primary object ${version ? `pins "${version}"` : 'pins no version'}.`,
        'Give the failover object the same objectVersion as the primary object, or none.');
    }
    if (type === 'ssmparameter' && failoverVersion && failoverLabel) {
      this.problem('ssm-version-and-label', where, `gives both objectVersion "${failoverVersion}" and objectVersionLabel "${failoverLabel}".`, 'Keep one of them.');
    }
    const arn = this.readArn(name, where, this.ctx.failoverRegion, 'failoverRegion');
    this.checkName(name, arn, type, where);
    if (type === 'ssmparameter') this.checkSsmVersion(failoverVersion, where);
    if (arn) {
      const implied = this.typeOfArn(arn);
      if (implied && implied !== type) {
        this.problem('failover-object', where, `is an ARN of the ${arn.service} service, but the primary object is of type ${type}.`, 'Name an object of the same service as the primary object.');
      } else {
        this.checkArnService(arn, type, where);
      }
    }
    return { name, arn, version: failoverVersion, versionLabel: failoverLabel };
  }

  /** Rule 8: no two files share a name. */
  private checkDuplicateFiles(objects: MountObject[]): void {
    if (this.ctx.pathTranslation === undefined) return;
    const seen = new Map<string, string>();
    const claim = (fileName: string, alias: string, subject: string) => {
      if (this.ctx.isUnresolved(alias)) return;
      const first = seen.get(fileName);
      if (first) {
        this.problem('duplicate-file', subject, `mounts the file "${fileName}", which ${first} mounts too.`,
          'Give each object and jmesPath entry its own objectAlias (the same object mounted twice, e.g. two version labels, needs two aliases).');
      } else {
        seen.set(fileName, subject);
      }
    };
    for (const object of objects) {
      const subject = `objects[${object.index}] "${object.name}"`;
      claim(object.fileName, object.alias, subject);
      object.jmesPath.forEach((file, i) => claim(file.fileName, file.alias, `${subject} jmesPath[${i}]`));
    }
    this.checkFileDirectoryClashes(seen);
  }

  /** With path translation off, a file named `a` and a file `a/b` cannot both exist. */
  private checkFileDirectoryClashes(files: Map<string, string>): void {
    for (const [fileName, subject] of files) {
      const elements = fileName.split('/');
      for (let i = 1; i < elements.length; i++) {
        const directory = elements.slice(0, i).join('/');
        const owner = files.get(directory);
        if (owner) {
          this.problem('duplicate-file', subject, `mounts the file "${fileName}" inside "${directory}", which ${owner} mounts as a file.`,
            'Give one of them another objectAlias: a name cannot be both a file and a directory.');
        }
      }
    }
  }
}

/** The objects read, with the problems and warnings found on the way. */
export interface ReadObjects {
  readonly objects: MountObject[];
  readonly problems: ContractProblem[];
  readonly warnings: ContractProblem[];
}

/** Validates parsed `objects` entries; problems and warnings are collected, not thrown. */
export function readObjects(entries: unknown[], ctx: ObjectContext): ReadObjects {
  const reader = new ObjectReader(ctx);
  const objects = reader.read(entries);
  return { objects, problems: reader.problems, warnings: reader.warnings };
}
