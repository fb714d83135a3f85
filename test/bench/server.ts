/**
 * The system under test for the bench, each part where production has it:
 * a throwaway database (embedded PostgreSQL unless a server URL is given),
 * migrated and demo-seeded from this process; then Behalf as its own OS
 * process (`node dist/src/main.js` through spawnBehalf) with production-like
 * settings (bcrypt cost 12, audit on, key refresh as in production) and only
 * the rate limits and the agent's session limit raised so the load generator
 * is not throttled.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig, type Config } from '../../config/load.js';
import { startEmbeddedPostgres } from '../../src/server/db/embedded.js';
import { registerClient } from '../../src/server/clients/register.js';
import { DEMO_CLIENTS, DEMO_CUSTOMERS, generatedContacts } from '../../src/server/seed/demo-data.js';
import { seedDemo } from '../../src/server/seed/seed-demo.js';
import { createServices } from '../../src/server/system.js';
import { freePort, spawnBehalf, type BehalfProcess } from '../support/behalf-process.js';

const HIGH = { points: 1_000_000, durationSeconds: 60 };

/** The settings Behalf runs the bench with, over config/test.json (written to its BEHALF_CONFIG_FILE). */
export const BENCH_OVERRIDES = {
  security: { bcryptCost: 12 },
  log: { level: 'error' },
  keys: { refreshIntervalSeconds: 5 },
  rateLimits: { enabled: true, signInPerIp: HIGH, signInPerAccount: HIGH, tokenPerIp: HIGH, tokenPerClient: HIGH },
  onBehalf: { maxConcurrentSessions: 100 },
};

export function benchConfig(databaseUrl: string, issuer: string): Config {
  return loadConfig({ env: { NODE_ENV: 'test', DATABASE_URL: databaseUrl, ISSUER: issuer }, overrides: BENCH_OVERRIDES });
}

/** A customer of the electronics store the bench acts for (the re-auth pool, userinfo, orders). */
export interface BenchCustomer {
  email: string;
  id: string;
}

export interface BenchDatabase {
  /** Behalf's database: migrated and demo-seeded. */
  url: string;
  /** Where Behalf will listen (chosen before seeding, so the seed's records name the right issuer). */
  issuer: string;
  port: number;
  /** Up to 64 electronics customers of the demo seed, by account id. */
  customers: BenchCustomer[];
  /** Another throwaway database on the same server (the orders API's own), dropped with this one. */
  createDatabase(suffix: string): Promise<string>;
  drop(): Promise<void>;
}

const log0 = (line: string) => process.stderr.write(`${line}\n`);

/**
 * A fresh database (on `serverUrl`, else on an embedded PostgreSQL started
 * here), migrated and seeded with the demo data at bcrypt cost 12. Behalf
 * is not running yet: a scale run may fill the database further before it starts.
 */
export async function prepareBenchDatabase(options: { serverUrl?: string; log?: (line: string) => void } = {}): Promise<BenchDatabase> {
  const log = options.log ?? log0;
  const dir = options.serverUrl ? undefined : mkdtempSync(join(tmpdir(), 'behalf-bench-pg-'));
  const embedded = dir ? await startEmbeddedPostgres({ dir, database: 'postgres' }) : undefined;
  const serverUrl = options.serverUrl ?? embedded!.url;
  const base = `behalf_bench_${process.pid}_${Date.now()}`;
  const created: string[] = [];
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  const createDatabase = async (suffix: string) => {
    const name = suffix ? `${base}_${suffix}` : base;
    await admin(`CREATE DATABASE ${name}`);
    created.push(name);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };
  const drop = async () => {
    for (const name of created.reverse())
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((error: unknown) =>
        log(`bench: drop database ${name} failed: ${String(error)}`),
      );
    await embedded?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    const url = await createDatabase('');
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    log('bench: migrating and seeding the demo data (bcrypt cost 12)…');
    const services = await createServices(benchConfig(url, issuer));
    const customers: BenchCustomer[] = [];
    try {
      await seedDemo(services);
      // The load generator replays fixed requests, and a DPoP proof is good for one request: the bench's
      // electronics storefront exchanges and re-authenticates without the demo's DPoP and PAR requirements
      // (their cost per exchange is one ES256 verify and one insert, next to the exchange's own work).
      const electronics = DEMO_CLIENTS.find((client) => client.metadata.client_id === 'storefront-electronics')!;
      await registerClient(
        services,
        { ...electronics.metadata, behalf_require_dpop_on_behalf: false, behalf_require_par_on_behalf: false },
        electronics.secret,
      );
      const store = await services.stores.findBySlug('electronics');
      if (!store) throw new Error('bench: the demo seed has no electronics store');
      const emails = [...DEMO_CUSTOMERS, ...generatedContacts()]
        .filter((person) => person.stores.includes('electronics'))
        .map((person) => person.email)
        .slice(0, 64);
      for (const email of emails) {
        const account = await services.accounts.findByUsername(store.id, email);
        if (!account) throw new Error(`bench: the demo seed has no account for ${email}`);
        customers.push({ email, id: account.id });
      }
    } finally {
      await services.database.close();
    }
    return { url, issuer, port, customers, createDatabase, drop };
  } catch (error) {
    await drop();
    throw error;
  }
}

/**
 * Behalf on `database` as its own process, on the port and issuer chosen when
 * the database was prepared, with the Node that runs the bench.
 * `nodeOptions` (BENCH_BEHALF_NODE_OPTIONS) become its NODE_OPTIONS, e.g. to
 * try V8 heap settings against the RSS target.
 */
export function startBenchBehalf(database: BenchDatabase, nodeOptions = process.env.BENCH_BEHALF_NODE_OPTIONS): Promise<BehalfProcess> {
  return spawnBehalf({
    databaseUrl: database.url,
    port: database.port,
    issuer: database.issuer,
    overrides: BENCH_OVERRIDES,
    env: { LOG_LEVEL: 'error', ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) },
    readyTimeoutMs: 120_000,
  });
}
