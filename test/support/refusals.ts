/**
 * Helpers for refusal tests: the audit records a request left behind, OAuth
 * error assertions, and JWTs made to look like Behalf's (expired, forged,
 * from another issuer, unsigned).
 */
import { randomUUID } from 'node:crypto';
import { generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import type { AuditEvent } from '../../src/audit/index.js';
import { loadKeystore } from '../../src/server/keys/key-store.js';
import type { RunningBehalf } from './behalf.js';
import type { JsonResponse } from './oauth.js';

export type DenialType = 'on_behalf.denied' | 'delegation.denied';

/** Where the audit trail stands now; pass it to `denialsSince`. */
export async function auditMark(running: RunningBehalf): Promise<number> {
  return running.behalf.audit.events.mark();
}

/** Denials of `type` recorded after `mark`, newest first. Denials are committed before the response leaves. */
export async function denialsSince(running: RunningBehalf, mark: number, type: DenialType = 'on_behalf.denied'): Promise<AuditEvent[]> {
  const { events } = await running.behalf.audit.events.query({ type, limit: 50 });
  return events.filter((event) => event.qid! > mark);
}

/** Asserts an OAuth error response: status, exact code, and a description that says why. */
export function expectOAuthError(response: JsonResponse, status: number, error: string, description: RegExp): void {
  expect({ status: response.status, error: response.body.error }).toEqual({ status, error });
  expect(String(response.body.error_description ?? '')).toMatch(description);
  expect(response.body.access_token).toBeUndefined();
  expect(response.headers.get('content-type') ?? '').toMatch(/application\/json/);
}

/** Behalf's current ES256 signing key (private), as the server holds it. */
export async function behalfSigningKey(running: RunningBehalf): Promise<JWK> {
  const { jwks } = await loadKeystore(running.behalf.dataSource, running.behalf.sealer);
  const key = jwks.keys.find((candidate) => candidate.alg === 'ES256' && !candidate.key_ops);
  if (!key) throw new Error('no active ES256 key');
  return key;
}

export interface ForgeOptions {
  issuer: string;
  sub: string;
  clientId: string;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
}

/** An RFC 9068-shaped access token signed with `jwk` (Behalf's own key, or any other). */
export async function signAccessToken(jwk: JWK, options: ForgeOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const expiresIn = options.expiresIn ?? 600;
  return new SignJWT({ client_id: options.clientId, scope: 'openid' })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid })
    .setIssuer(options.issuer)
    .setSubject(options.sub)
    .setAudience(options.clientId)
    .setJti(randomUUID())
    .setIssuedAt(now - Math.max(0, -expiresIn) - 60)
    .setExpirationTime(now + expiresIn)
    .sign(await importJWK(jwk, 'ES256'));
}

/** The same, signed by a key that is not Behalf's but claims Behalf's key id. */
export async function forgeAccessToken(kid: string | undefined, options: ForgeOptions): Promise<string> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ client_id: options.clientId })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', ...(kid ? { kid } : {}) })
    .setIssuer(options.issuer)
    .setSubject(options.sub)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(privateKey);
}

/** `alg: none`: no signature at all. */
export function unsignedAccessToken(options: ForgeOptions): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${encode({ alg: 'none', typ: 'at+jwt' })}.${encode({ iss: options.issuer, sub: options.sub, client_id: options.clientId, jti: randomUUID(), iat: now, exp: now + 600 })}.`;
}
