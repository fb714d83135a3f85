/**
 * A throwaway, migrated database for the audit benches: on DATABASE_URL's
 * server, else an embedded PostgreSQL; dropped (and the embedded one stopped)
 * whatever `run` does.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource, migrate } from '../../src/server/db/data-source.js';
import { startEmbeddedPostgres } from '../../src/server/db/embedded.js';

export async function withThrowawayDatabase(
  name: string,
  poolSize: number,
  run: (dataSource: DataSource, url: string) => Promise<void>,
): Promise<void> {
  const embedded = process.env.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({ dir: mkdtempSync(join(tmpdir(), 'behalf-bench-')), database: 'postgres' });
  const serverUrl = process.env.DATABASE_URL ?? embedded!.url;
  const database = `${name}_${process.pid}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const dataSource = createDataSource({ url: url.toString(), poolSize });
  try {
    await dataSource.initialize();
    await migrate(dataSource);
    await run(dataSource, url.toString());
  } finally {
    await dataSource.destroy();
    await admin.query(`DROP DATABASE ${database} WITH (FORCE)`);
    await admin.end();
    await embedded?.stop();
  }
}
