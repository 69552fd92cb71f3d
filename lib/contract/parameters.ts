import { parse as parseYaml } from 'yaml';
import { DEFAULT_PATH_TRANSLATION, parseBool } from './names';
import { MountObject, readObjects } from './objects';
import { ContractError, ContractProblem } from './problems';

/** The class-wide settings read from `spec.parameters`. */
export interface ClassSettings {
  /** The `region` parameter, when given. */
  readonly region?: string;
  readonly failoverRegion?: string;
  /** The character that replaces `/` in file names, or false when translation is off. */
  readonly pathTranslation: string | false;
  readonly usePodIdentity: boolean;
  /** Pod Identity agent address family; undefined tries IPv4, then IPv6. */
  readonly preferredAddressType?: 'ipv4' | 'ipv6';
}

/** A SecretProviderClass that passed every rule. */
export interface ValidatedClass {
  readonly settings: ClassSettings;
  readonly objects: MountObject[];
  /** Things that do not stop a mount but are likely mistakes (unknown fields). */
  readonly warnings: ContractProblem[];
}

/** How to validate. */
export interface ValidateOptions {
  /**
   * The primary region once resolved (the `region` parameter, else the
   * provider's AWS_REGION, else the node's region label). When undefined and
   * the class gives none, checks that need it are skipped.
   */
  readonly region?: string;
  /** True for values not known yet (unresolved CDK tokens); checks on them are skipped. */
  readonly isUnresolved?: (value: string) => boolean;
}

/** The result of validation: a value when there are no problems. */
export interface ValidationResult {
  readonly value?: ValidatedClass;
  readonly problems: ContractProblem[];
  readonly warnings: ContractProblem[];
}

/** The shape of an AWS region name: `us-east-1`, `us-gov-west-1`, `cn-north-1`, `us-isob-east-1`. */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** Reads the class-wide parameters; problems are appended to `problems`. */
class ParameterReader {
  public readonly problems: ContractProblem[] = [];
  /** False when path translation is an unresolved token, so file names cannot be checked. */
  public translationKnown = true;

  constructor(
    private readonly params: Record<string, string | undefined>,
    private readonly isUnresolved: (value: string) => boolean,
  ) {}

  /** A parameter's value; empty counts as absent. */
  public get(key: string): string | undefined {
    const value = this.params[key];
    return value === undefined || value === null || value === '' ? undefined : String(value);
  }

  public known(value: string | undefined): value is string {
    return value !== undefined && !this.isUnresolved(value);
  }

  private problem(subject: string, message: string, fix: string, rule = 'class-parameter'): void {
    this.problems.push({ rule, subject, message, fix });
  }

  public settings(primaryRegion: string | undefined): ClassSettings {
    const region = this.get('region');
    const failoverRegion = this.get('failoverRegion');
    this.checkRegion('region', region);
    this.checkRegion('failoverRegion', failoverRegion);
    if (this.known(failoverRegion) && this.known(primaryRegion) && failoverRegion === primaryRegion) {
      this.problem('parameter failoverRegion', `is "${failoverRegion}", the same as the primary region.`,
        'Set failoverRegion to a different region, or remove it.', 'failover-region');
    }
    return {
      region,
      failoverRegion,
      pathTranslation: this.pathTranslation(),
      usePodIdentity: this.usePodIdentity(),
      preferredAddressType: this.addressType(),
    };
  }

  private checkRegion(key: string, value: string | undefined): void {
    if (!this.known(value) || REGION.test(value)) return;
    this.problem(`parameter ${key}`, `is "${value}", which is not an AWS region name.`,
      `Write a region such as "us-east-1" or "eu-central-1", or leave ${key} out.`, 'region');
  }

  private pathTranslation(): string | false {
    const value = this.get('pathTranslation');
    if (value === undefined) return DEFAULT_PATH_TRANSLATION;
    if (!this.known(value)) {
      this.translationKnown = false;
      return DEFAULT_PATH_TRANSLATION;
    }
    if (value.toLowerCase() === 'false') return false;
    if ([...value].length !== 1) {
      this.problem('parameter pathTranslation', `is "${value}", but must be a single character or "False".`,
        'Use one character to replace "/" in file names (default "_"), or "False" to keep "/" as sub-directories.', 'path-translation');
      return DEFAULT_PATH_TRANSLATION;
    }
    return value;
  }

  private usePodIdentity(): boolean {
    const value = this.get('usePodIdentity');
    if (!this.known(value)) return false;
    const parsed = parseBool(value);
    if (parsed === undefined) {
      this.problem('parameter usePodIdentity', `is "${value}", which is not a boolean.`,
        'Use "true" for EKS Pod Identity or "false" (the default) for IRSA.', 'use-pod-identity');
      return false;
    }
    return parsed;
  }

  private addressType(): 'ipv4' | 'ipv6' | undefined {
    const value = this.get('preferredAddressType');
    if (!this.known(value)) return undefined;
    const lower = value.toLowerCase();
    if (lower === 'ipv4' || lower === 'ipv6') return lower;
    if (lower === 'auto') return undefined;
    this.problem('parameter preferredAddressType', `is "${value}".`,
      'Use "ipv4" or "ipv6", or leave it out to try IPv4 and then IPv6.', 'address-type');
    return undefined;
  }

  /** Rule 1: `objects` is a YAML list. Returns undefined when it cannot be checked or read. */
  public objectEntries(): unknown[] | undefined {
    const text = this.get('objects');
    if (text === undefined) {
      this.problem('parameter objects', 'is missing.', 'Add objects: a YAML list of the secrets and parameters to mount.', 'objects-yaml');
      return undefined;
    }
    // At synth, tokens embedded in the YAML parse as plain strings; only an
    // `objects` that is a token as a whole cannot be read yet.
    const unreadable = () => !this.known(text);
    let parsed: unknown;
    try {
      // The failsafe schema keeps every scalar a string, as the AWS provider reads them.
      parsed = parseYaml(text, { schema: 'failsafe', uniqueKeys: true, prettyErrors: false });
    } catch (e) {
      if (unreadable()) return undefined;
      this.problem('parameter objects', `is not valid YAML: ${(e as Error).message.split('\n')[0]}`,
        'Write objects as a YAML list, e.g. "- objectName: my-secret\\n  objectType: secretsmanager"; check indentation and quotes.', 'objects-yaml');
      return undefined;
    }
    if (!Array.isArray(parsed)) {
      if (unreadable()) return undefined;
      this.problem('parameter objects', 'is not a YAML list.', 'Start each object with "- ", e.g. "- objectName: my-secret".', 'objects-yaml');
      return undefined;
    }
    if (parsed.length === 0) {
      this.problem('parameter objects', 'lists no objects.', 'List at least one secret or parameter to mount.', 'objects-yaml');
      return undefined;
    }
    return parsed;
  }
}

/**
 * Validates the `spec.parameters` of a SecretProviderClass (every value a
 * string, `objects` as one YAML string) against the contract's rules.
 * Collects every problem rather than stopping at the first.
 */
export function validateClassParameters(params: Record<string, string | undefined>, options: ValidateOptions = {}): ValidationResult {
  const isUnresolved = options.isUnresolved ?? (() => false);
  const reader = new ParameterReader(params, isUnresolved);
  const primaryRegion = reader.get('region') ?? options.region;
  const settings = reader.settings(primaryRegion);
  const entries = reader.objectEntries();

  const read = entries
    ? readObjects(entries, {
      region: primaryRegion,
      failoverRegion: settings.failoverRegion,
      pathTranslation: reader.translationKnown ? settings.pathTranslation : undefined,
      isUnresolved,
    })
    : { objects: [], problems: [], warnings: [] };

  const problems = [...reader.problems, ...read.problems];
  const value = problems.length === 0 && entries ? { settings, objects: read.objects, warnings: read.warnings } : undefined;
  return { value, problems, warnings: read.warnings };
}

/** Like validateClassParameters, but throws a ContractError listing every problem. */
export function checkClassParameters(params: Record<string, string | undefined>, options: ValidateOptions = {}): ValidatedClass {
  const result = validateClassParameters(params, options);
  if (!result.value) throw new ContractError(result.problems);
  return result.value;
}
