/**
 * RS256 service-account tokens for the end-to-end flow: the stand-in cluster
 * signs them, the policy check (standing in for STS) verifies them. Built on
 * node:crypto because jose 6 is ESM-only and jest runs these files as CommonJS.
 */
import { createPublicKey, generateKeyPairSync, KeyObject, sign, verify } from 'node:crypto';

/** The stand-in cluster's OIDC signing key. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function newSigningKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, publicKey };
}

/** The public half as a JWK set (what the issuer's `jwks_uri` would serve). */
export function jwks(key: SigningKey): { keys: Array<Record<string, unknown>> } {
  return { keys: [{ ...key.publicKey.export({ format: 'jwk' }), kid: key.kid, alg: 'RS256', use: 'sig' }] };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A signed token with `iat`/`exp` set (one hour). */
export function signJwt(key: SigningKey, claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: key.kid })}.${b64({ iat: now, nbf: now, exp: now + 3600, ...claims })}`;
  return `${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
}

/** The claims without any check (to find the issuer); throws when the token is not a JWT. */
export function decodeJwt(token: string): Record<string, any> {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('The token is not a JWT (three dot-separated parts).');
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

/** The claims after checking the RS256 signature against `keySet` (by kid), the issuer and the lifetime. */
export function verifyJwt(token: string, keySet: { keys: Array<Record<string, unknown>> }, issuer: string): Record<string, any> {
  const [header, payload, signature] = token.split('.');
  const head = JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8'));
  const jwk = keySet.keys.find((k) => k.kid === head.kid);
  if (head.alg !== 'RS256' || !jwk) throw new Error(`No RS256 key "${head.kid}" for this token.`);
  const key = createPublicKey({ key: jwk as any, format: 'jwk' });
  if (!verify('sha256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature ?? '', 'base64url'))) {
    throw new Error('The token signature does not verify.');
  }
  const claims = decodeJwt(token);
  const now = Date.now() / 1000;
  if (claims.iss !== issuer) throw new Error(`The token's issuer is ${claims.iss}, expected ${issuer}.`);
  if (typeof claims.exp !== 'number' || claims.exp < now || (claims.nbf ?? 0) > now + 60) throw new Error('The token is expired or not yet valid.');
  return claims;
}
