/**
 * Measures audit appends: transactions that append one chained event, against
 * the same transactions inserting into an unchained table (no lock), at 1, 4
 * and 16 concurrent writers. Run: `npm run bench:audit` (embedded PostgreSQL
 * unless DATABASE_URL is set; a throwaway database either way).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { AuditWriter } from '../../src/audit/index.js';
import { createDataSource, migrate } from '../../src/server/db/data-source.js';
import { startEmbeddedPostgres } from '../../src/server/db/embedded.js';

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
  await dataSource.initialize();
  await migrate(dataSource);
  await dataSource.query(
    `CREATE TABLE bench_plain (id bigserial PRIMARY KEY, type text, actor text, details jsonb, at timestamptz DEFAULT now())`,
  );
  const writer = new AuditWriter();

  const scenarios = {
    plain: () =>
      dataSource.transaction(async (manager) => {
        await manager.query(`INSERT INTO bench_plain (type, actor, details) VALUES ($1, $2, $3)`, [
          'token.issued',
          'bench',
          JSON.stringify({ grant_type: 'client_credentials' }),
        ]);
      }),
    chained: () =>
      writer.withEvent(dataSource, async () => ({
        result: undefined,
        event: { type: 'token.issued', actor: 'bench', details: { grant_type: 'client_credentials' } },
      })),
  };

  const rows: { scenario: string; writers: number; per_second: number; p99_ms: number; ratio?: number }[] = [];
  for (const writers of [1, 4, 16]) {
    const measured: Record<string, number> = {};
    for (const [name, run] of Object.entries(scenarios)) {
      const latencies: number[] = [];
      const end = Date.now() + SECONDS * 1000;
      await Promise.all(
        Array.from({ length: writers }, async () => {
          while (Date.now() < end) {
            const start = process.hrtime.bigint();
            await run();
            latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
          }
        }),
      );
      latencies.sort((a, b) => a - b);
      measured[name] = latencies.length / SECONDS;
      rows.push({
        scenario: name,
        writers,
        per_second: Math.round(latencies.length / SECONDS),
        p99_ms: Number(latencies[Math.floor(latencies.length * 0.99)]!.toFixed(2)),
      });
    }
    rows.at(-1)!.ratio = Number((measured.chained! / measured.plain!).toFixed(2));
  }
  console.table(rows);

  await dataSource.destroy();
  await admin.query(`DROP DATABASE ${database} WITH (FORCE)`);
  await admin.end();
  await embedded?.stop();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
