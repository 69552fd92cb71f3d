/**
 * RS256 service-account tokens for the end-to-end flow: the stand-in cluster
 * signs them, the policy check (standing in for STS) verifies them, both with
 * jsonwebtoken.
 */
import { createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import * as jwt from 'jsonwebtoken';

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

/** A signed token, valid for one hour from now. */
export function signJwt(key: SigningKey, claims: Record<string, unknown>): string {
  return jwt.sign(claims, key.privateKey, { algorithm: 'RS256', keyid: key.kid, expiresIn: 3600, notBefore: 0 });
}

/** The claims without any check (to find the issuer); throws when the token is not a JWT. */
export function decodeJwt(token: string): Record<string, any> {
  const claims = jwt.decode(token, { json: true });
  if (!claims) throw new Error('The token is not a JWT.');
  return claims;
}

/** The claims after checking the RS256 signature against `keySet` (by kid), the issuer and the lifetime. */
export function verifyJwt(token: string, keySet: { keys: Array<Record<string, unknown>> }, issuer: string): Record<string, any> {
  const kid = jwt.decode(token, { complete: true })?.header.kid;
  const jwk = keySet.keys.find((k) => k.kid === kid);
  if (!jwk) throw new Error(`No key "${kid}" in the issuer's key set for this token.`);
  const key = createPublicKey({ key: jwk as any, format: 'jwk' });
  return jwt.verify(token, key, { algorithms: ['RS256'], issuer, clockTolerance: 60 }) as Record<string, any>;
}
