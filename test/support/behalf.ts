/** Starts a real Behalf on a real HTTP port and a fresh database, with the demo data. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig, type Config } from '../../config/load.js';
import type { BehalfClientMetadata } from '../../src/server/clients/client-repository.js';
import { registerClient } from '../../src/server/clients/register.js';
import { createBehalf, createServices, type Behalf } from '../../src/server/system.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface RunningBehalf {
  issuer: string;
  config: Config;
  behalf: Behalf;
  database: TestDatabase;
  server: Server;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** A database to reuse (another instance's); by default a fresh clone of the seeded template. */
  database?: TestDatabase;
  overrides?: Record<string, unknown>;
  env?: Record<string, string>;
}

export function testConfig(databaseUrl: string, issuer: string, options: StartOptions = {}): Config {
  return loadConfig({
    env: {
      NODE_ENV: 'test',
      DATABASE_URL: databaseUrl,
      ISSUER: issuer,
      ...(process.env.TEST_LOG_LEVEL ? { LOG_LEVEL: process.env.TEST_LOG_LEVEL } : {}),
      ...options.env,
    },
    overrides: options.overrides,
  });
}

async function listen(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

export async function startBehalf(options: StartOptions = {}): Promise<RunningBehalf> {
  const database = options.database ?? (await createTestDatabase());
  const { server, port } = await listen();
  const issuer = `http://127.0.0.1:${port}`;
  const config = testConfig(database.url, issuer, options);
  const behalf = await createBehalf(config);
  behalf.attach(server);
  return {
    issuer,
    config,
    behalf,
    database,
    server,
    async stop() {
      await behalf.close();
      if (!options.database) await database.drop();
    },
  };
}

/** A client registered before Behalf starts (the provider validates every client at start). */
export interface ClientToRegister {
  metadata: BehalfClientMetadata;
  secret: string | null;
}

/**
 * Behalf on its own database (a fresh clone of the template unless one is given) with `clients`
 * registered first; `stop()` also drops that database.
 */
export async function startBehalfWithClients(clients: ClientToRegister[], database?: TestDatabase): Promise<RunningBehalf> {
  const db = database ?? (await createTestDatabase());
  const services = await createServices(testConfig(db.url, 'http://127.0.0.1'));
  try {
    for (const client of clients) await registerClient(services, client.metadata, client.secret);
  } finally {
    await services.database.close();
  }
  const running = await startBehalf({ database: db });
  return {
    ...running,
    async stop() {
      await running.stop();
      await db.drop();
    },
  };
}
