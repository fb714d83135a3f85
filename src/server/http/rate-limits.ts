/**
 * Brute-force limits shared by every instance: rate-limiter-flexible on the
 * `rate_limit` table (PostgreSQL, created by a migration). A request over
 * budget gets 429 with Retry-After; when the store cannot be reached the
 * request is refused too (fail closed), not let through.
 */
import { createHash } from 'node:crypto';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';
import type { Config } from '../../../config/load.js';

export type LimitName = 'signInPerIp' | 'signInPerAccount' | 'tokenPerIp' | 'tokenPerClient';

export interface LimitVerdict {
  allowed: boolean;
  /** Seconds until a retry may succeed (when refused). */
  retryAfter: number;
  /** Refused because the counter store (the database) failed, not because the caller is over budget. */
  unavailable?: boolean;
}

export interface RateLimits {
  consume(name: LimitName, key: string): Promise<LimitVerdict>;
}

/** Keys are hashed: account names and client ids never sit in the table in clear. */
function hashed(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 32);
}

export function createRateLimits(dataSource: DataSource, config: Config): RateLimits {
  const limits = config.rateLimits;
  if (!limits.enabled) return { consume: async () => ({ allowed: true, retryAfter: 0 }) };
  // TypeORM's pg pool: the limiter shares Behalf's connections.
  const pool = (dataSource.driver as unknown as { master: unknown }).master;
  const limiters = new Map<LimitName, RateLimiterPostgres>();
  for (const name of ['signInPerIp', 'signInPerAccount', 'tokenPerIp', 'tokenPerClient'] as const) {
    limiters.set(
      name,
      new RateLimiterPostgres({
        storeClient: pool,
        storeType: 'pool',
        tableName: 'rate_limit',
        tableCreated: true,
        keyPrefix: name,
        points: limits[name].points,
        duration: limits[name].durationSeconds,
      }),
    );
  }
  return {
    async consume(name, key) {
      try {
        await limiters.get(name)!.consume(hashed(key));
        return { allowed: true, retryAfter: 0 };
      } catch (result) {
        if (result instanceof RateLimiterRes) return { allowed: false, retryAfter: Math.max(1, Math.ceil(result.msBeforeNext / 1000)) };
        // The counter store failed: refuse rather than run unlimited, and say
        // so (a 503, not a 429: the caller did nothing wrong).
        return { allowed: false, retryAfter: 5, unavailable: true };
      }
    },
  };
}
