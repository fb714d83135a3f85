/**
 * Behalf for the bench: in this process, on a throwaway database (embedded
 * PostgreSQL unless DATABASE_URL is set), demo-seeded, with production-like
 * settings (bcrypt cost 12, audit on, key refresh as in production) and rate
 * limits raised so the load generator is not throttled.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig, type Config } from '../../config/load.js';
import { startEmbeddedPostgres } from '../../src/server/db/embedded.js';
import { seedDemo } from '../../src/server/seed/seed-demo.js';
import { createBehalf, createServices, type Behalf } from '../../src/server/system.js';

export interface BenchServer {
  issuer: string;
  config: Config;
  behalf: Behalf;
  stop(): Promise<void>;
}

const HIGH = { points: 1_000_000, durationSeconds: 60 };

export function benchConfig(databaseUrl: string, issuer: string): Config {
  return loadConfig({
    env: { NODE_ENV: 'test', DATABASE_URL: databaseUrl, ISSUER: issuer },
    overrides: {
      security: { bcryptCost: 12 },
      log: { level: 'error' },
      keys: { refreshIntervalSeconds: 5 },
      rateLimits: { enabled: true, signInPerIp: HIGH, signInPerAccount: HIGH, tokenPerIp: HIGH, tokenPerClient: HIGH },
      onBehalf: { maxConcurrentSessions: 100 },
    },
  });
}

export async function startBenchServer(): Promise<BenchServer> {
  const dir = process.env.DATABASE_URL ? undefined : mkdtempSync(join(tmpdir(), 'behalf-bench-pg-'));
  const embedded = dir ? await startEmbeddedPostgres({ dir, database: 'postgres' }) : undefined;
  const serverUrl = process.env.DATABASE_URL ?? embedded!.url;
  const database = `behalf_bench_${process.pid}_${Date.now()}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${database}`);
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const cleanup = async () => {
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch((error: unknown) => console.error('bench: drop database failed', error));
    await embedded?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    const server: Server = createServer({ requestTimeout: 30_000, headersTimeout: 20_000, keepAliveTimeout: 30_000 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const config = benchConfig(url.toString(), issuer);
    const services = await createServices(config);
    try {
      await seedDemo(services);
    } finally {
      await services.database.close();
    }
    const behalf = await createBehalf(config);
    behalf.attach(server);
    return {
      issuer,
      config,
      behalf,
      async stop() {
        await behalf.close();
        await cleanup();
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
