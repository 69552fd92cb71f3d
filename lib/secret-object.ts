import { Token } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { IConstruct } from 'constructs';
import { arnInRegion, isCompleteSecretArn, parameterArnFromName, secretArnFromName } from './private/arns';
import { ObjectGrants, RenderedObject } from './private/rendered';

/** One extra file cut out of a JSON secret with a JMESPath expression. */
export interface JmesPathEntry {
  /** JMESPath expression evaluated against the secret's JSON; its result must be a string. */
  readonly path: string;

  /** File name of the result. */
  readonly alias: string;

  /**
   * File mode, four octal digits (e.g. `0400`).
   * @default - the object's file permission, else the volume default
   */
  readonly filePermission?: string;
}

/** The object to read in the failover region instead of the primary one. */
export interface FailoverObject {
  /** Name or ARN of the object in the failover region. */
  readonly objectName: string;

  /**
   * Version id; must equal the primary object's version when both are set.
   * @default - the current version
   */
  readonly version?: string;

  /**
   * Version stage (Secrets Manager) or label (SSM).
   * @default - the current version
   */
  readonly versionLabel?: string;
}

/** How one object is mounted: the fields of an entry of the class's `objects`. */
export interface SecretObjectOptions {
  /**
   * File name of the object in the mount (`objectAlias`).
   * @default - the object name, with `/` translated by the class's path translation
   */
  readonly alias?: string;

  /**
   * Secrets Manager VersionId or SSM version number (`objectVersion`).
   * @default - the current version
   */
  readonly version?: string;

  /**
   * Secrets Manager VersionStage or SSM label (`objectVersionLabel`).
   * @default - the current version
   */
  readonly versionLabel?: string;

  /**
   * File mode, exactly four octal digits, e.g. `0400` (`filePermission`).
   * @default - the volume's default mode (0644)
   */
  readonly filePermission?: string;

  /**
   * Extra files cut out of a JSON secret (`jmesPath`).
   * @default - none
   */
  readonly jmesPath?: JmesPathEntry[];

  /**
   * Object read in the class's failover region (`failoverObject`); needs `alias` and the class's `failoverRegion`.
   * @default - the same name in the failover region
   */
  readonly failover?: FailoverObject;

  /**
   * Customer-managed KMS key that encrypts the object; the identity gets `kms:Decrypt` through the service only.
   * @default - the secret's own key when known (a Secret made in this app), else none (AWS managed key)
   */
  readonly encryptionKey?: kms.IKey;
}

/** Options of a Secrets Manager object. */
export interface SecretsManagerObjectOptions extends SecretObjectOptions {
  /**
   * The name written as `objectName` in the class.
   * @default - the secret's name (the literal name when this app created the secret)
   */
  readonly objectName?: string;
}

/** Object types understood by the AWS provider. */
export enum SecretObjectType {
  /** A Secrets Manager secret. */
  SECRETS_MANAGER = 'secretsmanager',
  /** An SSM Parameter Store parameter. */
  SSM_PARAMETER = 'ssmparameter',
}

/** How an object is identified, before rendering. */
interface ObjectSource {
  readonly type: SecretObjectType;
  readonly objectName: string;
  readonly key?: kms.IKey;
  /** ARN for IAM in the primary region (or `region`), given the scope for partition/account. */
  arn(scope: IConstruct, region?: string): string;
}

/**
 * A Secrets Manager secret or SSM parameter to mount as a file, with how to mount it.
 */
export class SecretObject {
  /** A secret of this app or imported as an `ISecret`. */
  public static fromSecret(secret: secretsmanager.ISecret, options: SecretsManagerObjectOptions = {}): SecretObject {
    const fullArn = secret.secretFullArn;
    return new SecretObject(
      {
        type: SecretObjectType.SECRETS_MANAGER,
        objectName: options.objectName ?? literalSecretName(secret) ?? secret.secretName,
        arn: (scope, region) => {
          const arn = fullArn ?? `${secret.secretArn}-??????`;
          return region ? arnInRegion(scope, arn, region) : arn;
        },
        key: secret.encryptionKey,
      },
      options,
    );
  }

  /** A secret known by name only; IAM gets the name plus the `-??????` suffix pattern. */
  public static fromSecretName(secretName: string, options: SecretObjectOptions = {}): SecretObject {
    return new SecretObject(
      {
        type: SecretObjectType.SECRETS_MANAGER,
        objectName: secretName,
        arn: (scope, region) => secretArnFromName(scope, secretName, region),
      },
      options,
    );
  }

  /**
   * A secret by its complete ARN (with the six-character suffix); the ARN is mounted and granted as it is,
   * whatever region it names (the class's region must match it).
   */
  public static fromSecretCompleteArn(secretArn: string, options: SecretObjectOptions = {}): SecretObject {
    if (!Token.isUnresolved(secretArn) && !isCompleteSecretArn(secretArn)) {
      throw new Error(
        `"${secretArn}" is not a complete secret ARN (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<6 characters>). ` +
          'Fix: give the full ARN shown by `aws secretsmanager describe-secret`, or use SecretObject.fromSecretName().',
      );
    }
    return new SecretObject(
      {
        type: SecretObjectType.SECRETS_MANAGER,
        objectName: secretArn,
        arn: (scope, region) => (region ? arnInRegion(scope, secretArn, region) : secretArn),
      },
      options,
    );
  }

  /** An SSM parameter of this app or imported as an `IParameter`. */
  public static fromParameter(parameter: ssm.IParameter, options: SecretObjectOptions = {}): SecretObject {
    return new SecretObject(
      {
        type: SecretObjectType.SSM_PARAMETER,
        objectName: parameter.parameterName,
        arn: (scope, region) => (region ? parameterArnFromName(scope, parameter.parameterName, region) : parameter.parameterArn),
      },
      options,
    );
  }

  /** An SSM parameter by name (`/app/db/password` or `db-password`). */
  public static fromParameterName(parameterName: string, options: SecretObjectOptions = {}): SecretObject {
    return new SecretObject(
      {
        type: SecretObjectType.SSM_PARAMETER,
        objectName: parameterName,
        arn: (scope, region) => parameterArnFromName(scope, parameterName, region),
      },
      options,
    );
  }

  /** The `objectName` written in the class. */
  public readonly objectName: string;

  /** The `objectType` written in the class. */
  public readonly objectType: SecretObjectType;

  private constructor(
    private readonly source: ObjectSource,
    private readonly options: SecretObjectOptions,
  ) {
    this.objectName = source.objectName;
    this.objectType = source.type;
  }

  /**
   * @internal
   * The `objects` entry (fields in the provider's spelling) and the IAM resources it needs.
   */
  public _render(scope: IConstruct, failoverRegion?: string): RenderedObject {
    return { entry: this._renderEntry(), grants: this.renderGrants(scope, failoverRegion) };
  }

  /**
   * @internal
   * The entry of the class's `objects` list, fields in the provider's spelling.
   */
  public _renderEntry(): { [key: string]: any } {
    const o = this.options;
    const entry: { [key: string]: any } = { objectName: this.objectName, objectType: this.objectType };
    setIf(entry, 'objectAlias', o.alias);
    setIf(entry, 'objectVersion', o.version);
    setIf(entry, 'objectVersionLabel', o.versionLabel);
    setIf(entry, 'filePermission', o.filePermission);
    if (o.jmesPath && o.jmesPath.length > 0) {
      entry.jmesPath = o.jmesPath.map((j) => {
        const rendered: { [key: string]: any } = { path: j.path, objectAlias: j.alias };
        setIf(rendered, 'filePermission', j.filePermission);
        return rendered;
      });
    }
    if (o.failover) {
      const failover: { [key: string]: any } = { objectName: o.failover.objectName };
      setIf(failover, 'objectVersion', o.failover.version);
      setIf(failover, 'objectVersionLabel', o.failover.versionLabel);
      entry.failoverObject = failover;
    }
    return entry;
  }

  private renderGrants(scope: IConstruct, failoverRegion?: string): ObjectGrants {
    // The primary ARN, and the ARN read in the failover region when the class has one.
    const arns = [this.source.arn(scope)];
    if (failoverRegion) {
      arns.push(this.failoverArn(scope, failoverRegion));
    }
    const key = this.options.encryptionKey ?? this.source.key;
    const isSecret = this.objectType === SecretObjectType.SECRETS_MANAGER;
    return {
      secretArns: isSecret ? arns : [],
      parameterArns: isSecret ? [] : arns,
      keyArns: key ? [key.keyArn] : [],
    };
  }

  /** ARN read in the failover region: the failover object's own name or ARN, else the primary's replica. */
  private failoverArn(scope: IConstruct, region: string): string {
    const name = this.options.failover?.objectName;
    if (name === undefined) {
      return this.source.arn(scope, region);
    }
    const isArn = !Token.isUnresolved(name) && name.startsWith('arn:');
    if (this.objectType === SecretObjectType.SECRETS_MANAGER) {
      return isArn ? name : secretArnFromName(scope, name, region);
    }
    return isArn ? name : parameterArnFromName(scope, name, region);
  }
}

/** The name this app gave a secret it creates, when it is a literal; undefined otherwise. */
function literalSecretName(secret: secretsmanager.ISecret): string | undefined {
  const child = secret.node.defaultChild;
  if (child instanceof secretsmanager.CfnSecret && typeof child.name === 'string' && !Token.isUnresolved(child.name)) {
    return child.name;
  }
  return undefined;
}

function setIf(target: { [key: string]: any }, key: string, value: string | undefined): void {
  if (value !== undefined) {
    target[key] = value;
  }
}
