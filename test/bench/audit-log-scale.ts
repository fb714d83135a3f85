/**
 * `npm run bench:audit-scale`: the audit log at size. A throwaway database
 * (on DATABASE_URL's server, else embedded) gets BENCH_AUDIT_EVENTS (default
 * 1,000,000; 10,000,000 for the figure) sequenced log events from
 * scale-data.ts; then a sequencer builds the tree over them and signs a head,
 * the whole log is verified against it in bounded memory (time, peak heap),
 * and inclusion proofs are timed for 200 events spread over it.
 */
import { seedDemo } from '../../src/server/seed/seed-demo.js';
import { createServices } from '../../src/server/system.js';
import { measureLog } from './audit-measure.js';
import { benchConfig } from './server.js';
import { seedScale } from './scale-data.js';
import { withThrowawayDatabase } from './throwaway-database.js';

const EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 1_000_000);

async function main(): Promise<void> {
  await withThrowawayDatabase('behalf_bench_log', 4, async (dataSource, url) => {
    // The people the generated events name (stores, accounts, clients): the demo seed, as the bench has it.
    const services = await createServices(benchConfig(url, 'http://127.0.0.1:1'));
    try {
      await seedDemo(services);
    } finally {
      await services.database.close();
    }
    const seeded = Date.now();
    await seedScale(url, { accounts: 1000, contacts: 1000, auditRows: EVENTS }, (line) => process.stderr.write(`${line}\n`));
    process.stderr.write(`seeded in ${((Date.now() - seeded) / 1000).toFixed(1)} s; building the tree, verifying, proving…\n`);
    const built = Date.now();
    const costs = await measureLog(dataSource);
    console.table([{ ...costs, tree_and_verify_s: Number(((Date.now() - built) / 1000).toFixed(1)) }]);
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
