import { IConstruct } from 'constructs';

/**
 * An input error tied to a construct: the message starts with the construct's
 * path so that `cdk synth` output points at the code to change.
 */
export class SecretsStoreValidationError extends Error {
  /** Path of the construct whose input is wrong. */
  public readonly constructPath: string;

  constructor(scope: IConstruct, message: string) {
    super(`[${scope.node.path}] ${message}`);
    this.name = 'SecretsStoreValidationError';
    this.constructPath = scope.node.path;
  }
}
