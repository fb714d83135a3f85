/**
 * Access-token verification for resource servers. JWTs (RFC 9068) through
 * jose with a cached remote JWKS, issuer, audience, `typ`, algorithms and
 * expiry pinned; opaque tokens through RFC 7662 introspection with the
 * resource server's own client credentials, cached briefly.
 */
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { KitError } from './errors.js';
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
  /** Default ['ES256'] (what Behalf signs access tokens with). */
  algorithms?: string[];
  /** Default 5 s. */
  clockToleranceSeconds?: number;
  /** Set to accept opaque tokens. */
  introspection?: IntrospectionOptions;
  /** Override the key source (tests). */
  keys?: JWTVerifyGetKey;
}

export type AccessTokenVerifier = (token: string) => Promise<AccessTokenClaims>;

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_CACHE = 10_000;

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
  // jose refetches the JWKS for an unknown kid at most once per cooldown: no fetch storm.
  const keys = options.keys ?? createRemoteJWKSet(new URL(options.jwksUri ?? `${issuer}/jwks`), { cooldownDuration: 30_000, cacheMaxAge: 600_000, timeoutDuration: 5_000 });
  const algorithms = options.algorithms ?? ['ES256'];
  const cache = new Map<string, { claims: AccessTokenClaims; until: number }>();

  async function verifyJwt(token: string): Promise<AccessTokenClaims> {
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer,
        audience: options.audience,
        typ: 'at+jwt',
        algorithms,
        clockTolerance: options.clockToleranceSeconds ?? 5,
        requiredClaims: ['exp', 'iat', 'sub', 'client_id', 'jti'],
      });
      return payload;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new KitError('token_expired', 'the access token has expired');
      if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'aud') throw new KitError('wrong_audience', 'the access token is not meant for this resource server');
      throw new KitError('invalid_token', 'the access token is invalid');
    }
  }

  async function introspect(token: string): Promise<AccessTokenClaims> {
    const introspection = options.introspection;
    if (!introspection) throw new KitError('invalid_token', 'the access token is invalid');
    const key = createHash('sha256').update(token).digest('base64url');
    const cached = cache.get(key);
    if (cached && cached.until > Date.now()) return cached.claims;
    let body: Record<string, unknown>;
    try {
      const response = await fetch(introspection.endpoint ?? `${issuer}/token/introspection`, {
        method: 'POST',
        headers: { authorization: basic(introspection.clientId, introspection.clientSecret), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
        signal: AbortSignal.timeout(5000),
      });
      if (!response.ok) throw new Error(`introspection answered ${response.status}`);
      body = (await response.json()) as Record<string, unknown>;
    } catch {
      throw new KitError('session_unverifiable', 'the access token could not be checked right now');
    }
    if (body.active !== true) throw new KitError('invalid_token', 'the access token is invalid, expired or revoked');
    const aud = Array.isArray(body.aud) ? body.aud : [body.aud];
    if (body.iss !== undefined && body.iss !== issuer) throw new KitError('invalid_token', 'the access token was issued by someone else');
    if (!aud.includes(options.audience)) throw new KitError('wrong_audience', 'the access token is not meant for this resource server');
    const exp = typeof body.exp === 'number' ? body.exp * 1000 : Date.now();
    if (cache.size >= MAX_CACHE) cache.clear();
    cache.set(key, { claims: body, until: Math.min(Date.now() + (introspection.cacheSeconds ?? 30) * 1000, exp) });
    return body;
  }

  return async (token) => {
    if (!token || token.length > 16_384) throw new KitError('invalid_token', 'the access token is invalid');
    return JWT_SHAPE.test(token) ? verifyJwt(token) : introspect(token);
  };
}
