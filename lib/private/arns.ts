import { Arn, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * ARN pattern of a secret known only by name: Secrets Manager appends a dash
 * and six random characters to every secret's ARN.
 */
export function secretArnFromName(scope: IConstruct, name: string, region?: string): string {
  return Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${name}-??????`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    region,
  });
}

/**
 * ARN of an SSM parameter by name. Hierarchical names start with `/`, which the
 * ARN already has after `parameter`, so it is not doubled.
 */
export function parameterArnFromName(scope: IConstruct, name: string, region?: string): string {
  const bare = Token.isUnresolved(name) ? name : name.replace(/^\/+/, '');
  return Stack.of(scope).formatArn({
    service: 'ssm',
    resource: 'parameter',
    resourceName: bare,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    region,
  });
}

/** The same ARN in another region (a replica secret keeps its name and suffix). */
export function arnInRegion(scope: IConstruct, arn: string, region: string): string {
  if (!Token.isUnresolved(arn)) {
    const parts = arn.split(':');
    parts[3] = region;
    return parts.join(':');
  }
  const components = Arn.split(arn, ArnFormat.COLON_RESOURCE_NAME);
  return Stack.of(scope).formatArn({ ...components, region });
}

/** True when `value` looks like a complete Secrets Manager ARN (name plus six-character suffix). */
export function isCompleteSecretArn(value: string): boolean {
  return /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:.+-[A-Za-z0-9]{6}$/.test(value);
}
