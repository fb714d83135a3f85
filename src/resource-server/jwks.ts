/**
 * Behalf's public keys, fetched from its JWKS endpoint and cached.
 *
 * Why not jose's createRemoteJWKSet: its cooldown counts from the last fetch
 * of any kind, so a resource server that fetched the JWKS a few seconds
 * before a key rotation refuses every token signed with the new key for up to
 * the whole cooldown. Here only refetches caused by an unknown `kid` are rate
 * limited: the first token with a new `kid` refetches at once, and a flood of
 * tokens with made-up `kid`s costs at most one fetch per cooldown.
 */
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

/** Behalf's JWKS could not be fetched: the caller answers 503, never "invalid token". */
export class JwksUnavailableError extends Error {
  override name = 'JwksUnavailableError';
}

export interface RemoteKeysOptions {
  /** How long a fetched JWKS is used before it is fetched again. */
  maxAgeMs: number;
  /** Minimum time between refetches caused by an unknown `kid`. */
  cooldownMs: number;
  timeoutMs: number;
}

/**
 * A key source for jose's `jwtVerify` that reads a remote JWKS.
 *
 * @example
 * const keys = remoteKeys(new URL('http://localhost:4000/jwks'), { maxAgeMs: 600_000, cooldownMs: 10_000, timeoutMs: 5_000 });
 * await jwtVerify(token, keys, { issuer, audience });
 */
export function remoteKeys(uri: URL, options: RemoteKeysOptions): JWTVerifyGetKey {
  let local: ReturnType<typeof createLocalJWKSet> | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let lastMissRefetch = Number.NEGATIVE_INFINITY;
  let pending: Promise<void> | undefined;

  async function fetchKeys(): Promise<void> {
    let jwks: JSONWebKeySet;
    try {
      const response = await fetch(uri, {
        headers: { accept: 'application/jwk-set+json, application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      if (response.status !== 200) throw new Error(`the JWKS endpoint answered ${response.status}`);
      jwks = (await response.json()) as JSONWebKeySet;
      local = createLocalJWKSet(jwks);
      fetchedAt = Date.now();
    } catch (error) {
      throw new JwksUnavailableError(`Behalf's keys could not be fetched from ${uri.href}: ${(error as Error).message}`);
    }
  }

  /** One fetch at a time; concurrent callers share it. */
  function reload(): Promise<void> {
    pending ??= fetchKeys().finally(() => {
      pending = undefined;
    });
    return pending;
  }

  return async (protectedHeader, token) => {
    if (!local || Date.now() - fetchedAt >= options.maxAgeMs) await reload();
    try {
      return await local!(protectedHeader, token);
    } catch (error) {
      if (!(error instanceof joseErrors.JWKSNoMatchingKey) || Date.now() - lastMissRefetch < options.cooldownMs) throw error;
      lastMissRefetch = Date.now();
      await reload();
      return local!(protectedHeader, token);
    }
  };
}
