/**
 * `npm run bench:audit`: the audit log alone (audit-measure.ts) on a
 * throwaway database (embedded PostgreSQL unless DATABASE_URL is set):
 * audited appends against unaudited inserts of the same rows at 1, 4 and 16
 * writers, then the log's own costs. BENCH_SECONDS (default 3) per measurement.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createDataSource, migrate } from '../../src/server/db/data-source.js';
import { startEmbeddedPostgres } from '../../src/server/db/embedded.js';
import { measureAppends, measureLog } from './audit-measure.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

async function main(): Promise<void> {
  const embedded = process.env.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({ dir: mkdtempSync(join(tmpdir(), 'behalf-bench-')), database: 'postgres' });
  const serverUrl = process.env.DATABASE_URL ?? embedded!.url;
  const database = `behalf_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const dataSource = createDataSource({ url: url.toString(), poolSize: 20 });
  try {
    await dataSource.initialize();
    await migrate(dataSource);
    console.table(await measureAppends(dataSource, SECONDS, [1, 4, 16]));
    console.table([await measureLog(dataSource)]);
  } finally {
    await dataSource.destroy();
    await admin.query(`DROP DATABASE ${database} WITH (FORCE)`);
    await admin.end();
    await embedded?.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
