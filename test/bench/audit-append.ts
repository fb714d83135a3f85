/**
 * `npm run bench:audit`: the audit log alone (audit-measure.ts) on a
 * throwaway database (embedded PostgreSQL unless DATABASE_URL is set):
 * audited appends against unaudited inserts of the same rows at 1, 4 and 16
 * writers, then the log's own costs. BENCH_SECONDS (default 3) per measurement.
 */
import { measureAppends, measureLog } from './audit-measure.js';
import { withThrowawayDatabase } from './throwaway-database.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

async function main(): Promise<void> {
  await withThrowawayDatabase('behalf_bench', 20, async (dataSource) => {
    console.table(await measureAppends(dataSource, SECONDS, [1, 4, 16]));
    console.table([await measureLog(dataSource)]);
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
