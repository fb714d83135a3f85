/**
 * DPoP (RFC 9449) for resource servers: a token bound to a key (`cnf.jkt`)
 * is good only with the `DPoP` authorization scheme and a fresh proof made
 * with that key for this very request (§7.1). What is checked, after §4.3:
 * one `DPoP` header holding a JWT with `typ: dpop+jwt`, an asymmetric `alg`
 * and a public `jwk` that verifies it; `htm` = the request's method; `htu` =
 * its URI without query and fragment (this server's public URL, so it works
 * behind a proxy); `iat` within the accepted window; `ath` = the hash of the
 * presented token (§4.2); the key's thumbprint = `cnf.jkt`; and a `jti` not
 * seen before within the window (§11.1). Server-provided nonces (§8, §9) are
 * not used.
 *
 * Several instances: give them one shared `ReplayStore` (Redis `SET NX EX`, a
 * table with a unique key), or a proof replayed to another instance within
 * the window is not noticed. The default store is in memory, per process.
 */
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import { KitError } from './errors.js';
import type { AccessTokenClaims } from './principal.js';

/** Remembers proof ids until they expire. */
export interface ReplayStore {
  /** Records `key` until `expiresAt` (epoch ms); false when it is already recorded (a replay). */
  claim(key: string, expiresAt: number): Promise<boolean> | boolean;
}

export interface DpopOptions {
  /**
   * This resource server's public base URL as clients call it (`https://api.example.com`): `htu`
   * must be it plus the request's path. Default: the request's own origin (as Koa sees it; behind a
   * proxy set `app.proxy` or this).
   */
  publicUrl?: string;
  /** Accepted proof algorithms (asymmetric only). Default ES256, EdDSA, Ed25519, PS256, RS256. */
  algorithms?: string[];
  /** How far a proof's `iat` may lie from now, either way. Default 60 s. */
  maxAgeSeconds?: number;
  /** Where seen `jti`s are kept. Default: in memory (one process). */
  replay?: ReplayStore;
}

/** How the token arrived: its scheme, the `DPoP` header(s), and the request the proof must name. */
export interface Presentation {
  scheme: 'Bearer' | 'DPoP';
  /** Every `DPoP` header value received (exactly one is acceptable). */
  proofs: string[];
  method: string;
  /** The request's URL as received (query and fragment are ignored). */
  url: string;
}

export const DEFAULT_DPOP_ALGORITHMS = ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'];
const SYMMETRIC = /^HS/;

/**
 * An in-memory replay store for one process; entries leave when they expire (and the oldest
 * go first beyond `maxEntries`, which only a flood of valid proofs can reach).
 *
 * @example
 * const verifier = createAccessTokenVerifier({ issuer, audience, dpop: { replay: memoryReplayStore() } });
 */
export function memoryReplayStore(maxEntries = 100_000): ReplayStore {
  const seen = new Map<string, number>();
  return {
    claim(key, expiresAt) {
      const now = Date.now();
      const until = seen.get(key);
      if (until !== undefined && until > now) return false;
      if (seen.size >= maxEntries) {
        for (const [entry, expiry] of seen) if (expiry <= now) seen.delete(entry);
        while (seen.size >= maxEntries) seen.delete(seen.keys().next().value!);
      }
      seen.set(key, expiresAt);
      return true;
    },
  };
}

const proofError = (message: string) => new KitError('invalid_dpop_proof', message, 'DPoP');
const tokenError = (message: string) => new KitError('invalid_token', message, 'DPoP');

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** RFC 9449 §4.3 point 9: compared after syntax-based normalisation, without query and fragment. */
function withoutQuery(value: string): string | undefined {
  try {
    const url = new URL(value);
    url.search = '';
    url.hash = '';
    return url.href;
  } catch {
    return undefined;
  }
}

function boundKey(claims: AccessTokenClaims): string | undefined {
  const cnf = claims.cnf;
  if (cnf === undefined) return undefined;
  const jkt = cnf && typeof cnf === 'object' ? (cnf as { jkt?: unknown }).jkt : undefined;
  // Another confirmation method (mTLS x5t#S256) cannot be checked here: refused, never taken as a bearer token.
  if (typeof jkt !== 'string' || !jkt)
    throw new KitError('invalid_token', 'this kind of sender-constrained access token is not accepted here');
  return jkt;
}

export type SenderConstraintCheck = (claims: AccessTokenClaims, token: string, presentation: Presentation | undefined) => Promise<void>;

/**
 * The check the verifier runs after the token itself verified: unbound tokens pass as Bearer,
 * bound ones only with the DPoP scheme and a valid proof of their key.
 */
export function createSenderConstraintCheck(options: DpopOptions | false = {}): SenderConstraintCheck {
  const settings = options === false ? undefined : options;
  const algorithms = (settings?.algorithms ?? DEFAULT_DPOP_ALGORITHMS).filter((alg) => !SYMMETRIC.test(alg));
  const maxAge = settings?.maxAgeSeconds ?? 60;
  const replay = settings?.replay ?? memoryReplayStore();
  const base = settings?.publicUrl ? new URL(settings.publicUrl) : undefined;

  function expectedHtu(url: string): string | undefined {
    const received = new URL(url);
    if (!base) return withoutQuery(received.href);
    // The public base may carry a path prefix the proxy strips (https://example.com/api → /orders).
    const prefix = base.pathname.replace(/\/+$/, '');
    return withoutQuery(`${base.origin}${prefix}${received.pathname}`);
  }

  async function checkProof(proof: string, token: string, jkt: string, presentation: Presentation): Promise<void> {
    let payload: Record<string, unknown>;
    let jwk: JWK;
    try {
      const verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms });
      payload = verified.payload;
      jwk = verified.protectedHeader.jwk as JWK;
    } catch {
      throw proofError('the DPoP proof is not a valid dpop+jwt signed with the public key it carries');
    }
    const { jti, htm, htu, iat, ath } = payload;
    if (typeof jti !== 'string' || !jti || jti.length > 256) throw proofError('the DPoP proof has no jti');
    if (htm !== presentation.method) throw proofError('the DPoP proof names another HTTP method (htm)');
    if (typeof htu !== 'string' || withoutQuery(htu) !== expectedHtu(presentation.url))
      throw proofError('the DPoP proof names another URI (htu)');
    const now = Math.floor(Date.now() / 1000);
    if (typeof iat !== 'number' || Math.abs(now - iat) > maxAge) throw proofError('the DPoP proof is too old or from the future (iat)');
    if (ath !== sha256(token)) throw proofError('the DPoP proof is not for this access token (ath)');
    if ((await calculateJwkThumbprint(jwk)) !== jkt)
      throw tokenError('the DPoP proof was made with another key than the token is bound to');
    // Last: only a proof that passed everything else spends its jti.
    if (!(await replay.claim(`${jkt}:${jti}`, (Math.max(iat, now) + maxAge + 1) * 1000)))
      throw proofError('the DPoP proof was already used (jti replay)');
  }

  return async (claims, token, presentation) => {
    const jkt = boundKey(claims);
    if (!jkt) {
      if (presentation?.scheme === 'DPoP') throw tokenError('this access token is not DPoP-bound: present it with the Bearer scheme');
      return;
    }
    // Fail closed: a bound token verified without its request (or with DPoP switched off) is refused.
    if (!settings || !presentation) throw tokenError('DPoP-bound access tokens are not accepted here');
    if (presentation.scheme !== 'DPoP')
      throw tokenError('this access token is DPoP-bound: present it as "Authorization: DPoP <token>" with a DPoP proof');
    if (presentation.proofs.length !== 1)
      throw proofError(presentation.proofs.length ? 'send exactly one DPoP header' : 'a DPoP proof is required');
    await checkProof(presentation.proofs[0]!, token, jkt, presentation);
  };
}
