/**
 * Brute-force limits shared by every instance: rate-limiter-flexible on the
 * `rate_limit` table (PostgreSQL, created by a migration), or on Redis when
 * `rateLimits.redisUrl` (REDIS_URL) is set. Same keys (hashed), same budgets
 * either way. A request over budget gets 429 with Retry-After; when the store
 * cannot be reached the request is refused too (fail closed), not let through.
 */
import { createHash } from 'node:crypto';
import { RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, type RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';
import type { Config } from '../../../config/load.js';
import type { Logger } from '../observability/logger.js';
import { onceEvery } from '../observability/once-every.js';
import { sidePool } from '../db/side-pools.js';
import { connectRedis, REDIS_TIMEOUTS } from './rate-limit-redis.js';

export type LimitName = 'signInPerIp' | 'signInPerAccount' | 'tokenPerIp' | 'tokenPerClient';

export interface LimitVerdict {
  allowed: boolean;
  /** Seconds until a retry may succeed (when refused). */
  retryAfter: number;
  /** Refused because the counter store (the database) failed, not because the caller is over budget. */
  unavailable?: boolean;
}

/** A dependency /readyz checks besides the database. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface RateLimits {
  consume(name: LimitName, key: string): Promise<LimitVerdict>;
  /**
   * Gives back the point a request consumed (a sign-in that succeeded: only failures should
   * count toward the brute-force budget). Best effort: a refund that fails leaves the limit stricter.
   */
  refund(name: LimitName, key: string): Promise<void>;
  /** The counter store, when it is not the database (Redis). */
  readiness: ReadinessCheck[];
  close(): Promise<void>;
}

const STORE_FAILURE_LOG_INTERVAL_MS = 10_000;

const LIMIT_NAMES = ['signInPerIp', 'signInPerAccount', 'tokenPerIp', 'tokenPerClient'] as const satisfies readonly LimitName[];

/** Keys are hashed: account names and client ids never sit in the table (or in Redis) in clear. */
function hashed(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 32);
}

export interface RateLimitOptions {
  logger: Logger;
}

export async function createRateLimits(dataSource: DataSource, config: Config, options: RateLimitOptions): Promise<RateLimits> {
  const limits = config.rateLimits;
  if (!limits.enabled)
    return {
      consume: async () => ({ allowed: true, retryAfter: 0 }),
      refund: async () => undefined,
      readiness: [],
      close: async () => undefined,
    };
  const limiters = new Map<LimitName, RateLimiterStoreAbstract>();
  const readiness: ReadinessCheck[] = [];
  let close: () => Promise<void> = async () => undefined;

  if (limits.redisUrl) {
    const redis = connectRedis(limits.redisUrl, options.logger, REDIS_TIMEOUTS);
    for (const name of LIMIT_NAMES) {
      limiters.set(
        name,
        new RateLimiterRedis({
          storeClient: redis.client,
          // Refused at once while disconnected, rather than queued.
          rejectIfRedisNotReady: true,
          keyPrefix: `${limits.redisKeyPrefix}${name}`,
          points: limits[name].points,
          duration: limits[name].durationSeconds,
        }),
      );
    }
    readiness.push({ name: 'redis', check: () => redis.ping() });
    close = () => redis.close();
    // Start with the connection up when Redis is there; when it is not, start
    // anyway: limited requests get 503 until it answers (and /readyz says so).
    if (!(await redis.ready(REDIS_TIMEOUTS.connectMs))) {
      options.logger.warn('rate-limit store not reachable at start', { event: 'ratelimit.redis.unreachable_at_start', redis: redis.where });
    }
  } else {
    // Connections of their own that commit without waiting for the WAL flush: every token request
    // bumps the same few counter rows (one client, one IP), and a synchronous commit held each row's
    // lock through the flush, so concurrent requests queued on it (baseline requests/s +18 %). A
    // database crash may forget the last fraction of a second of counts; never an audit record,
    // which stays on Behalf's synchronous connections.
    const pool = sidePool(dataSource, { purpose: 'ratelimit', settings: { synchronous_commit: 'off' }, max: 5 });
    for (const name of LIMIT_NAMES) {
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
  }

  // During an outage every limited request fails the same way: one line per interval says so.
  const storeFailed = onceEvery(STORE_FAILURE_LOG_INTERVAL_MS, (refused: number, name: LimitName, error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    options.logger.warn('rate-limit store failed: limited requests refused with 503', {
      event: 'ratelimit.store_failed',
      store: limits.redisUrl ? 'redis' : 'postgres',
      limit: name,
      refused,
      // Redis errors can quote the URL: never its password.
      error: limits.redisUrl ? message.replace(/\/\/[^@/\s]*@/g, '//***@') : message,
    });
  });

  return {
    async consume(name, key) {
      try {
        await limiters.get(name)!.consume(hashed(key));
        return { allowed: true, retryAfter: 0 };
      } catch (result) {
        if (result instanceof RateLimiterRes) return { allowed: false, retryAfter: Math.max(1, Math.ceil(result.msBeforeNext / 1000)) };
        // The counter store failed: refuse rather than run unlimited, and say
        // so (a 503, not a 429: the caller did nothing wrong).
        storeFailed(name, result);
        return { allowed: false, retryAfter: 5, unavailable: true };
      }
    },
    async refund(name, key) {
      await limiters
        .get(name)!
        .reward(hashed(key), 1)
        .catch((error: unknown) => storeFailed(name, error));
    },
    readiness,
    close,
  };
}
