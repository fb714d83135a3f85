/**
 * The Redis connection behind the rate limits when `rateLimits.redisUrl`
 * (REDIS_URL) is set. Built to fail fast, never to wait: no offline queue (a
 * command while disconnected is refused at once), bounded connect and command
 * times, no replay of unanswered commands after a reconnect. Every failure
 * reaches the limiter as an error, which refuses the request (503).
 * The URL's password never reaches a log line.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../observability/logger.js';

export interface RedisTimeouts {
  /** Giving up on one connection attempt (then ioredis retries in the background). */
  connectMs: number;
  /** Giving up on one command (a Redis that accepts connections but does not answer). */
  commandMs: number;
}

export const REDIS_TIMEOUTS: RedisTimeouts = { connectMs: 2_000, commandMs: 1_000 };

export interface RedisConnection {
  client: Redis;
  /** The URL without credentials, for logs and messages. */
  where: string;
  /** Resolves when Redis answers a PING within the command timeout, rejects otherwise. */
  ping(): Promise<void>;
  /** True once the connection is ready; false at its first failure, or if it was not ready within `ms`. */
  ready(ms: number): Promise<boolean>;
  close(): Promise<void>;
}

/** `redis://host:port/db` with any user name and password left out. */
export function redisLocation(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
}

/** Removes the URL's password from a message, in case a driver error ever quotes it. */
function scrubber(url: string): (text: string) => string {
  const parsed = new URL(url);
  const secrets = [parsed.password, decodeURIComponent(parsed.password)].filter((secret) => secret.length > 0);
  return (text) => secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}

export function connectRedis(url: string, logger: Logger, timeouts: RedisTimeouts = REDIS_TIMEOUTS): RedisConnection {
  const where = redisLocation(url);
  const scrub = scrubber(url);
  const client = new Redis(url, {
    connectionName: 'behalf-rate-limits',
    enableOfflineQueue: false,
    connectTimeout: timeouts.connectMs,
    commandTimeout: timeouts.commandMs,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // Keep trying in the background (requests are refused meanwhile), at most every 2 s.
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
    disableClientInfo: true,
  });

  // One line when Redis goes away, one when it is back: not one per reconnect attempt.
  let reachable: boolean | undefined;
  client.on('ready', () => {
    if (reachable !== true) logger.info('rate-limit store reachable', { event: 'ratelimit.redis.ready', redis: where });
    reachable = true;
  });
  const unreachable = (reason: string) => {
    if (reachable !== false) {
      logger.warn('rate-limit store unreachable: limited requests are refused (503) until it answers', {
        event: 'ratelimit.redis.unreachable',
        redis: where,
        error: scrub(reason),
      });
    }
    reachable = false;
  };
  client.on('error', (error: Error) => unreachable(error.message));
  // A lost connection (not one closed by close()): ioredis reconnects, and may succeed before any error.
  client.on('reconnecting', () => unreachable('connection lost'));

  return {
    client,
    where,
    async ping() {
      await client.ping();
    },
    ready(ms) {
      if (client.status === 'ready') return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const settle = (value: boolean) => {
          clearTimeout(timer);
          client.off('ready', onReady);
          client.off('error', onError);
          resolve(value);
        };
        const onReady = () => settle(true);
        const onError = () => settle(false);
        const timer = setTimeout(() => settle(false), ms);
        client.on('ready', onReady);
        client.on('error', onError);
      });
    },
    async close() {
      if (client.status === 'ready') {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          client.quit().catch(() => undefined),
          new Promise((resolve) => (timer = setTimeout(resolve, timeouts.commandMs))),
        ]);
        clearTimeout(timer);
      }
      // Whatever state it is in (connecting, reconnecting): stop, and stop retrying.
      client.disconnect();
    },
  };
}
