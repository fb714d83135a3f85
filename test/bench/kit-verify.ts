/**
 * `kit-verify`: the resource-server kit's verifier on on-behalf JWTs, in this
 * process, against a raw jose `jwtVerify` loop over the same key set in the
 * same run; `kit-status-list`: the kit with its token status list check
 * against the kit without. No HTTP once the kit has fetched the JWKS, except
 * the status list's refetch every 4 s (refreshSeconds), as in production.
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
/** Each contender runs in slices this long, in turn, so a busy machine's drift hits all alike. */
const SLICE_MS = 200;

type Work = (token: string) => Promise<unknown>;

/** Runs each contender over `tokens` round-robin, in alternating slices, for `seconds` each in all. */
async function interleaved<K extends string>(
  seconds: number,
  tokens: string[],
  contenders: Record<K, Work>,
): Promise<Record<K, LoopResult>> {
  const names = Object.keys(contenders) as K[];
  const state = new Map(names.map((name) => [name, { latencies: [] as number[], errors: 0, elapsed: 0 }]));
  let i = 0;
  for (let round = 0; state.get(names[0]!)!.elapsed < seconds * 1000; round += 1) {
    // Rotate who goes first, so no contender always runs right after the same one.
    for (let k = 0; k < names.length; k += 1) {
      const name = names[(round + k) % names.length]!;
      const own = state.get(name)!;
      const started = performance.now();
      while (i < MAX_ITERATIONS && performance.now() - started < SLICE_MS) {
        const t0 = performance.now();
        try {
          await contenders[name](tokens[i % tokens.length]!);
        } catch {
          own.errors += 1;
        }
        own.latencies.push(performance.now() - t0);
        i += 1;
      }
      own.elapsed += performance.now() - started;
    }
  }
  const results = {} as Record<K, LoopResult>;
  for (const [name, own] of state) {
    const latencies = own.latencies.sort((a, b) => a - b);
    const at = (q: number) => Number((latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0).toFixed(3));
    const count = latencies.length;
    results[name] = { count, per_s: (count * 1000) / own.elapsed, p50_ms: at(0.5), p95_ms: at(0.95), p99_ms: at(0.99), errors: own.errors };
  }
  return results;
}

export async function kitVerify(
  issuer: string,
  audience: string,
  tokens: string[],
  seconds: number,
): Promise<{ kit: LoopResult; raw: LoopResult; withStatus: LoopResult }> {
  const response = await fetch(`${issuer}/jwks`, { signal: AbortSignal.timeout(10_000) });
  const jwks = (await response.json()) as JSONWebKeySet;
  const rawKeys = createLocalJWKSet(jwks);
  // The kit as a resource server uses it: its own cached remote JWKS (fetched once, then from memory).
  const verify = createAccessTokenVerifier({ issuer, audience });
  await verify(tokens[0]!); // fetch the JWKS before timing
  const verifyWithStatus = createAccessTokenVerifier({ issuer, audience, statusList: {} });
  await verifyWithStatus(tokens[0]!); // and the status list
  const options = {
    issuer,
    audience,
    typ: 'at+jwt',
    algorithms: ['ES256'],
    clockTolerance: 5,
    requiredClaims: ['exp', 'iat', 'sub', 'client_id', 'jti'],
  };
  await jwtVerify(tokens[0]!, rawKeys, options);
  const results = await interleaved(seconds, tokens, {
    raw: (token) => jwtVerify(token, rawKeys, options),
    kit: verify,
    withStatus: verifyWithStatus,
  });
  return results;
}
