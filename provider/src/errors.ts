import { status } from '@grpc/grpc-js';

/**
 * A mount failure with the gRPC status that fits its cause. The message names
 * the object, region and AWS error code and the likely fix; it never carries
 * secret values or tokens.
 */
export class MountError extends Error {
  constructor(
    public readonly code: status,
    message: string,
    /** The AWS or rule code behind the failure, e.g. `ResourceNotFoundException`. */
    public readonly reason?: string,
  ) {
    super(message);
    this.name = 'MountError';
  }
}

/**
 * Another component's message as a clause of ours: its first line, without the
 * full stop it may end with, so `...: ${clause(m)}. Fix: ...` has one full stop.
 */
export function clause(message: string): string {
  return String(message).split('\n')[0].replace(/[\s.]+$/, '');
}

/** Where an AWS call failed: what the message names. */
export interface AwsCallSubject {
  /** e.g. `secret "my-db-password"` or `parameter "/app/db"`. */
  readonly object: string;
  readonly region: string;
  readonly service: 'secretsmanager' | 'ssm' | 'sts';
}

interface Classified {
  readonly code: status;
  readonly fix: string;
}

// AWS error codes grouped by the gRPC status they map to, with the usual fix.
const NOT_FOUND_CODES = new Set(['ResourceNotFoundException', 'ParameterNotFound', 'ParameterVersionNotFound', 'ParameterVersionLabelNotFound']);
const DENIED_CODES = new Set(['AccessDeniedException', 'AccessDenied', 'DecryptionFailure', 'KMSAccessDeniedException', 'AuthorizationError']);
const UNAUTHENTICATED_CODES = new Set([
  'InvalidIdentityToken', 'InvalidIdentityTokenException', 'ExpiredTokenException', 'ExpiredToken', 'IDPRejectedClaim',
  'IDPRejectedClaimException', 'InvalidClientTokenId', 'UnrecognizedClientException', 'IDPCommunicationError',
]);
const THROTTLING_CODES = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'RequestThrottled']);
const BAD_REQUEST_CODES = new Set(['ValidationException', 'InvalidParameterException', 'InvalidRequestException', 'InvalidKeyId', 'InvalidParameterValue']);

/** Network failures have no HTTP status; these are the usual Node/SDK error names for them. */
function isNetworkError(err: any): boolean {
  if (err?.$metadata?.httpStatusCode) return false;
  const code = err?.code ?? err?.cause?.code;
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)
    || err?.name === 'TimeoutError' || err?.name === 'RequestTimeout';
}

/** True for a server-side (5xx) or network failure: the only failures that justify the failover region. */
export function isServerOrNetworkError(err: unknown): boolean {
  const e = err as any;
  if (e instanceof MountError) return false;
  if (isAbort(e)) return false;
  const httpStatus: number | undefined = e?.$metadata?.httpStatusCode;
  return (httpStatus !== undefined && httpStatus >= 500) || e?.$fault === 'server' && !THROTTLING_CODES.has(e?.name) || isNetworkError(e);
}

/** True when the error is an aborted call (cancelled mount or deadline). */
export function isAbort(err: unknown): boolean {
  const e = err as any;
  return e?.name === 'AbortError' || e?.name === 'CancelledError' || e?.code === 'ABORT_ERR';
}

function classify(err: any): Classified {
  const name: string = err?.name ?? 'Error';
  if (isAbort(err)) return { code: status.CANCELLED, fix: 'The mount was cancelled or ran past its deadline; the driver retries it.' };
  if (NOT_FOUND_CODES.has(name)) {
    return { code: status.NOT_FOUND, fix: 'Check the object name, version and label, and that it exists in this region.' };
  }
  if (DENIED_CODES.has(name)) {
    return { code: status.PERMISSION_DENIED, fix: "Allow the pod's role to read this object (and kms:Decrypt on its key when a customer key is used)." };
  }
  if (UNAUTHENTICATED_CODES.has(name)) {
    return { code: status.UNAUTHENTICATED, fix: "Check the role's trust policy (OIDC provider, audience sts.amazonaws.com, service account subject) or the Pod Identity association." };
  }
  if (THROTTLING_CODES.has(name)) return { code: status.UNAVAILABLE, fix: 'AWS throttled the request; the driver retries the mount.' };
  if (BAD_REQUEST_CODES.has(name)) return { code: status.INVALID_ARGUMENT, fix: 'Check the object name, version and label in the SecretProviderClass.' };
  if (isServerOrNetworkError(err)) {
    return { code: status.UNAVAILABLE, fix: 'The AWS endpoint failed or was unreachable; set failoverRegion to read a replica elsewhere, or retry.' };
  }
  return { code: status.UNKNOWN, fix: 'See the AWS error code above.' };
}

/** Turns an AWS SDK error into a MountError naming the object, region and AWS error code. */
export function fromAwsError(err: unknown, subject: AwsCallSubject): MountError {
  if (err instanceof MountError) return err;
  const e = err as any;
  const { code, fix } = classify(e);
  const awsCode: string = e?.name ?? e?.code ?? 'Error';
  const detail = e?.message && clause(e.message) ? `: ${clause(e.message)}` : '';
  return new MountError(code, `${subject.object} in ${subject.region} (${subject.service}): ${awsCode}${detail}. Fix: ${fix}`, awsCode);
}

/** The error to report for a batch result entry (BatchGetSecretValue `Errors`), shaped like an SDK error. */
export function awsErrorLike(errorCode: string, message: string | undefined, httpStatusCode: number): Error {
  const e = new Error(message ?? errorCode) as any;
  e.name = errorCode;
  e.$metadata = { httpStatusCode };
  e.$fault = httpStatusCode >= 500 ? 'server' : 'client';
  return e;
}
