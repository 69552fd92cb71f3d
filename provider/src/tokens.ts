import { status } from '@grpc/grpc-js';
import { SERVICE_ACCOUNT_TOKENS } from './attributes';
import { MountError } from './errors';

/** The audience of the token used for IRSA (AssumeRoleWithWebIdentity). */
export const IRSA_AUDIENCE = 'sts.amazonaws.com';
/** The audience of the token used for EKS Pod Identity. */
export const POD_IDENTITY_AUDIENCE = 'pods.eks.amazonaws.com';

/** A service account token the driver requested for the pod. */
export interface ServiceAccountToken {
  readonly token: string;
  /** When the token expires, if the driver said. */
  readonly expiresAt?: Date;
}

const FIX = 'Configure tokenRequests with this audience on the CSIDriver object secrets-store.csi.k8s.io '
  + '(the driver chart value tokenRequests, e.g. [{audience: sts.amazonaws.com}, {audience: pods.eks.amazonaws.com}]).';

function unauthenticated(message: string): MountError {
  return new MountError(status.UNAUTHENTICATED, `${message} Fix: ${FIX}`, 'MissingToken');
}

/**
 * Contract rule 10: picks the token for `audience` out of the
 * `csi.storage.k8s.io/serviceAccount.tokens` attribute. Errors never echo the
 * attribute, since it holds tokens.
 */
export function tokenFor(attributes: Record<string, string>, audience: string): ServiceAccountToken {
  const text = attributes[SERVICE_ACCOUNT_TOKENS];
  if (text === undefined || text === '') {
    throw unauthenticated(`The driver sent no service account tokens (attribute ${SERVICE_ACCOUNT_TOKENS}); the ${audience} token is needed.`);
  }
  let tokens: unknown;
  try {
    tokens = JSON.parse(text);
  } catch {
    throw unauthenticated(`The attribute ${SERVICE_ACCOUNT_TOKENS} is not valid JSON, so the ${audience} token cannot be read.`);
  }
  if (typeof tokens !== 'object' || tokens === null || Array.isArray(tokens)) {
    throw unauthenticated(`The attribute ${SERVICE_ACCOUNT_TOKENS} is not a JSON object of audiences.`);
  }
  const entry = (tokens as Record<string, any>)[audience];
  if (entry === undefined) throw unauthenticated(`The driver sent no token for the audience ${audience}.`);
  if (typeof entry?.token !== 'string' || entry.token === '') {
    throw unauthenticated(`The token for the audience ${audience} is empty.`);
  }
  const expiresAt = typeof entry.expirationTimestamp === 'string' ? new Date(entry.expirationTimestamp) : undefined;
  return { token: entry.token, expiresAt: expiresAt && !isNaN(expiresAt.getTime()) ? expiresAt : undefined };
}
