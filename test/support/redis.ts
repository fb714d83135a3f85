/**
 * Redis for the rate-limit tests: the shared one (127.0.0.1:6379, or
 * TEST_REDIS_URL), probed once; a private `redis-server` on a free port that a
 * test may pause or kill; and key clean-up by prefix. Every wait is bounded.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { freePort } from './behalf-process.js';

export const SHARED_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A short-lived client that fails fast and never retries. */
function quickClient(url: string): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    commandTimeout: 1_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  return client;
}

async function withClient<T>(url: string, work: (client: Redis) => Promise<T>): Promise<T> {
  const client = quickClient(url);
  try {
    await client.connect();
    return await work(client);
  } finally {
    client.disconnect();
  }
}

/** True when a Redis answers PING at `url` within a second. */
export async function redisAnswers(url: string): Promise<boolean> {
  return withClient(url, async (client) => (await client.ping()) === 'PONG').catch(() => false);
}

/** A key prefix no other test (or run) uses. */
export function uniquePrefix(): string {
  return `behalf:test:${randomBytes(6).toString('hex')}:`;
}

/** The keys under `prefix` (SCAN, not KEYS). */
export async function keysUnder(url: string, prefix: string): Promise<string[]> {
  return withClient(url, async (client) => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys;
  });
}

/** Deletes every key under `prefix`; returns how many. */
export async function deleteKeys(url: string, prefix: string): Promise<number> {
  const keys = await keysUnder(url, prefix);
  if (keys.length === 0) return 0;
  return withClient(url, (client) => client.del(...keys));
}

/** True when a `redis-server` binary is on the PATH. */
export function redisServerInstalled(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export interface PrivateRedis {
  url: string;
  port: number;
  password: string;
  /** SIGSTOP: the port still accepts connections, nothing answers. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** SIGKILL: gone at once, no goodbye to the clients. */
  kill(): Promise<void>;
  /** A new server on the same port and password (after kill). */
  restart(): Promise<void>;
}

/** A `redis-server` of this test's own, in memory only, with a password. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const password = `test-${randomBytes(12).toString('hex')}`;
  const url = `redis://:${password}@127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  async function start() {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', password],
      { stdio: 'ignore' },
    );
    const current = child;
    exited = new Promise<void>((resolve) => current.once('exit', () => resolve()));
    const deadline = Date.now() + 10_000;
    while (!(await redisAnswers(url))) {
      if (current.exitCode !== null || Date.now() > deadline) throw new Error(`private redis-server on port ${port} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  await start();

  return {
    url,
    port,
    password,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    async kill() {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
        await exited;
      }
    },
    restart: start,
  };
}
