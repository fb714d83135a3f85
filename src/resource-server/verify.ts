/**
 * Access-token verification for resource servers. JWTs (RFC 9068) through
 * jose with a cached remote JWKS, issuer, audience, `typ`, algorithms and
 * expiry pinned; opaque tokens through RFC 7662 introspection with the
 * resource server's own client credentials, cached briefly.
 *
 * Anything wrong with the token is a 401 `invalid_token`; Behalf being
 * unreachable (JWKS or introspection) is a 503 `token_unverifiable`, so a
 * client never throws away a good token because of an outage.
 */
import { createHash } from 'node:crypto';
import { errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { createSenderConstraintCheck, type DpopOptions, type Presentation } from './dpop.js';
import { KitError } from './errors.js';
import { JwksUnavailableError, remoteKeys } from './jwks.js';
import { createStatusListChecker, type StatusListOptions } from './status-list.js';
import type { AccessTokenClaims } from './principal.js';

export interface IntrospectionOptions {
  /** Default: `<issuer>/token/introspection`. */
  endpoint?: string;
  clientId: string;
  clientSecret: string;
  /** How long an answer is reused (never past the token's expiry). Default 30 s. */
  cacheSeconds?: number;
}

export interface VerifierOptions {
  issuer: string;
  /** This resource server's identifier: the `aud` its tokens must carry. */
  audience: string;
  /** Default: `<issuer>/jwks`. */
  jwksUri?: string;
  /** How long the fetched JWKS is used before it is fetched again. Default 600 s. */
  jwksCacheSeconds?: number;
  /**
   * Minimum time between JWKS refetches caused by a token with an unknown
   * `kid`. The first token signed with a new key refetches at once; tokens
   * with made-up `kid`s cannot make the kit fetch more often than this. Default 10 s.
   */
  jwksCooldownSeconds?: number;
  /** Default ['ES256'] (what Behalf signs access tokens with). */
  algorithms?: string[];
  /** Default 5 s. */
  clockToleranceSeconds?: number;
  /** Set to accept opaque tokens. */
  introspection?: IntrospectionOptions;
  /** Set to check every JWT's entry in Behalf's token status list (status-list.ts); a JWT without one is refused. */
  statusList?: StatusListOptions;
  /** Override the key source (tests). */
  keys?: JWTVerifyGetKey;
  /** DPoP-bound tokens (RFC 9449): how proofs are checked; `false` refuses every bound token. Default: on, in-memory replay store. */
  dpop?: DpopOptions | false;
}

/**
 * Verifies a token. Without `presentation` (how it arrived: scheme, DPoP proof, request) a
 * DPoP-bound token is refused, as its proof cannot be checked.
 */
export type AccessTokenVerifier = (token: string, presentation?: Presentation) => Promise<AccessTokenClaims>;

const MAX_CACHE = 10_000;

/**
 * Behalf normalises resource indicators: an origin-only URL has no trailing
 * slash (`http://localhost:4003/` is issued as `aud: "http://localhost:4003"`).
 */
function normaliseAudience(value: string): string {
  try {
    const url = new URL(value);
    if (url.pathname === '/' && !url.search && !url.hash && !value.includes('#')) return url.href.replace(/\/\??$/, '');
    return url.href;
  } catch {
    return value; // a logical name, compared as is
  }
}

function asClaims(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function basic(clientId: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

/**
 * Creates a verifier for one resource server.
 *
 * @example
 * const verify = createAccessTokenVerifier({ issuer: 'http://localhost:4000', audience: 'http://localhost:4003' });
 * const claims = await verify(bearerToken); // throws KitError on any problem
 */
export function createAccessTokenVerifier(options: VerifierOptions): AccessTokenVerifier {
  const issuer = options.issuer.replace(/\/+$/, '');
  const audience = normaliseAudience(options.audience);
  const keys =
    options.keys ??
    remoteKeys(new URL(options.jwksUri ?? `${issuer}/jwks`), {
      maxAgeMs: (options.jwksCacheSeconds ?? 600) * 1000,
      cooldownMs: (options.jwksCooldownSeconds ?? 10) * 1000,
      timeoutMs: 5_000,
    });
  const algorithms = options.algorithms ?? ['ES256'];
  const cache = new Map<string, { claims: AccessTokenClaims; until: number }>();
  const statusList = options.statusList && createStatusListChecker({ ...options.statusList, issuer, keys, algorithms });
  const senderConstraint = createSenderConstraintCheck(options.dpop);

  async function verifyJwt(token: string): Promise<AccessTokenClaims> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer,
        audience,
        typ: 'at+jwt',
        algorithms,
        clockTolerance: options.clockToleranceSeconds ?? 5,
        requiredClaims: ['exp', 'iat', 'sub', 'client_id', 'jti'],
      }));
    } catch (error) {
      if (error instanceof JwksUnavailableError)
        throw new KitError('token_unverifiable', 'the access token could not be checked right now');
      if (error instanceof joseErrors.JWTExpired) throw new KitError('token_expired', 'the access token has expired');
      if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'aud')
        throw new KitError('wrong_audience', 'the access token is not meant for this resource server');
      throw new KitError('invalid_token', 'the access token is invalid');
    }
    await statusList?.assertValid(payload);
    return payload;
  }

  async function introspect(token: string): Promise<AccessTokenClaims> {
    const introspection = options.introspection;
    if (!introspection) throw new KitError('invalid_token', 'the access token is invalid');
    const key = createHash('sha256').update(token).digest('base64url');
    const cached = cache.get(key);
    if (cached && cached.until > Date.now()) return cached.claims;
    let response: Response;
    let body: Record<string, unknown> | undefined;
    try {
      response = await fetch(introspection.endpoint ?? `${issuer}/token/introspection`, {
        method: 'POST',
        headers: {
          authorization: basic(introspection.clientId, introspection.clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
        signal: AbortSignal.timeout(5000),
      });
      body = asClaims(await response.json());
    } catch {
      throw new KitError('token_unverifiable', 'the access token could not be checked right now');
    }
    // 400: Behalf refused to look at this token (malformed); anything else (our own credentials refused, 5xx) is not the token's fault.
    if (response.status === 400) throw new KitError('invalid_token', 'the access token is invalid');
    if (!response.ok || !body) throw new KitError('token_unverifiable', 'the access token could not be checked right now');
    if (body.active !== true) throw new KitError('invalid_token', 'the access token is invalid, expired or revoked');
    if (body.iss !== undefined && body.iss !== issuer) throw new KitError('invalid_token', 'the access token was issued by someone else');
    // Refresh tokens are introspectable too (no token_type); a DPoP one must say what it is bound to (checked below).
    if (body.token_type !== 'Bearer' && !(body.token_type === 'DPoP' && body.cnf !== undefined))
      throw new KitError('invalid_token', 'the token is not an access token');
    if (body.token_type === 'Bearer' && body.cnf !== undefined) throw new KitError('invalid_token', 'the access token is malformed');
    const aud = Array.isArray(body.aud) ? body.aud : [body.aud];
    if (!aud.includes(audience)) throw new KitError('wrong_audience', 'the access token is not meant for this resource server');
    if (typeof body.exp !== 'number') throw new KitError('invalid_token', 'the access token has no expiry');
    if (body.exp * 1000 <= Date.now()) throw new KitError('token_expired', 'the access token has expired');
    // Client-credentials tokens have no account: the client is the subject, as in Behalf's JWTs.
    const claims: AccessTokenClaims =
      body.sub === undefined && typeof body.client_id === 'string' ? { ...body, sub: body.client_id } : body;
    if (cache.size >= MAX_CACHE) cache.clear();
    cache.set(key, { claims, until: Math.min(Date.now() + (introspection.cacheSeconds ?? 30) * 1000, body.exp * 1000) });
    return claims;
  }

  return async (token, presentation) => {
    if (!token || token.length > 16_384) throw new KitError('invalid_token', 'the access token is invalid');
    // Anything with a dot is a JWT (or garbage) and never goes to introspection, which refuses JWTs.
    const claims = token.includes('.') ? await verifyJwt(token) : await introspect(token);
    // RFC 9449 §7.1: a bound token only with the DPoP scheme and a proof of its key, on every request.
    await senderConstraint(claims, token, presentation);
    return claims;
  };
}
