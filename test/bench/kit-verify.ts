/**
 * `kit-verify`: the resource-server kit's verifier on on-behalf JWTs, in this
 * process, against a raw jose `jwtVerify` loop over the same key set in the
 * same run. No HTTP once the kit has fetched the JWKS.
 */
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { createAccessTokenVerifier } from '../../src/resource-server/verify.js';

export interface LoopResult {
  count: number;
  per_s: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  errors: number;
}

const MAX_ITERATIONS = 5_000_000;

/** Runs `work` over `tokens` round-robin for `seconds` (and at most MAX_ITERATIONS times). */
async function loop(seconds: number, tokens: string[], work: (token: string) => Promise<unknown>): Promise<LoopResult> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  let i = 0;
  while (i < MAX_ITERATIONS && performance.now() < end) {
    const t0 = performance.now();
    try {
      await work(tokens[i % tokens.length]!);
    } catch {
      errors += 1;
    }
    latencies.push(performance.now() - t0);
    i += 1;
  }
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Number((latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0).toFixed(3));
  return { count: i, per_s: i / elapsed, p50_ms: at(0.5), p95_ms: at(0.95), p99_ms: at(0.99), errors };
}

export async function kitVerify(
  issuer: string,
  audience: string,
  tokens: string[],
  seconds: number,
): Promise<{ kit: LoopResult; raw: LoopResult }> {
  const response = await fetch(`${issuer}/jwks`, { signal: AbortSignal.timeout(10_000) });
  const jwks = (await response.json()) as JSONWebKeySet;
  const rawKeys = createLocalJWKSet(jwks);
  // The kit as a resource server uses it: its own cached remote JWKS (fetched once, then from memory).
  const verify = createAccessTokenVerifier({ issuer, audience });
  await verify(tokens[0]!); // fetch the JWKS before timing
  const options = {
    issuer,
    audience,
    typ: 'at+jwt',
    algorithms: ['ES256'],
    clockTolerance: 5,
    requiredClaims: ['exp', 'iat', 'sub', 'client_id', 'jti'],
  };
  await jwtVerify(tokens[0]!, rawKeys, options);
  // Alternate halves so drift on a busy machine hits both sides alike.
  const half = seconds / 2;
  const raw1 = await loop(half, tokens, (token) => jwtVerify(token, rawKeys, options));
  const kit1 = await loop(half, tokens, verify);
  const kit2 = await loop(half, tokens, verify);
  const raw2 = await loop(half, tokens, (token) => jwtVerify(token, rawKeys, options));
  const merge = (a: LoopResult, b: LoopResult): LoopResult => ({
    count: a.count + b.count,
    per_s: (a.per_s + b.per_s) / 2,
    p50_ms: Math.max(a.p50_ms, b.p50_ms),
    p95_ms: Math.max(a.p95_ms, b.p95_ms),
    p99_ms: Math.max(a.p99_ms, b.p99_ms),
    errors: a.errors + b.errors,
  });
  return { kit: merge(kit1, kit2), raw: merge(raw1, raw2) };
}
