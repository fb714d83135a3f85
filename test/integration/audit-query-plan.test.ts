/**
 * Audit queries by type prefix (`auth.*`) can use an index, whatever the
 * database's collation: without one, a rare prefix walks the whole trail
 * (seconds at ten million events). Plans, not timings: the tables here are
 * small, so the planner's cheaper choices are switched off to show the index
 * is usable at all.
 */
import { AuditRepository } from '../../src/audit/index.js';
import { createDataSource } from '../../src/server/db/data-source.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

it.each(['admin.*', 'auth.login.*'])('answers type=%s through the type index', async (type) => {
  const dataSource = createDataSource({ url: db.url, poolSize: 1 });
  await dataSource.initialize();
  try {
    const plan = await dataSource.transaction(async (manager) => {
      await manager.query('SET LOCAL enable_seqscan = off');
      await manager.query('SET LOCAL enable_indexscan = off');
      const seen: string[] = [];
      // The store's own statement, captured by running it through EXPLAIN.
      const explaining = {
        query: async (sql: string, params: unknown[]) => {
          const rows = (await manager.query(`EXPLAIN ${sql}`, params)) as { 'QUERY PLAN': string }[];
          seen.push(...rows.map((row) => row['QUERY PLAN']));
          return [];
        },
      };
      await new AuditRepository(explaining as never).query({ type });
      return seen.join('\n');
    });
    // Both halves of the page: log events by queue id, then the events chained before the log by seq.
    expect(plan).toMatch(/Bitmap Index Scan on audit_event_type_qid_idx/);
    // (On this empty table the planner may as well take the chained events' seq index.)
    expect(plan).toMatch(/Bitmap Index Scan on audit_event_(type_chained|chained_seq)_idx/);
  } finally {
    await dataSource.destroy();
  }
});
