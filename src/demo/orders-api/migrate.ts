/** Applies the orders API's migrations, one instance at a time. */
import pg from 'pg';
import type { DataSource } from 'typeorm';

/** "bmoa": the orders API's own lock, distinct from Behalf's. */
const MIGRATION_LOCK = 0x626d_6f61;

/**
 * The lock is taken on a connection of its own (the session holds it while
 * the pool migrates) and polled, never waited for: a session waiting inside
 * pg_advisory_lock holds a snapshot, and CREATE INDEX CONCURRENTLY
 * (1795540000002) waits for every older snapshot, so the holder would wait
 * for the waiter forever.
 */
export async function migrateOrders(dataSource: DataSource, url: string): Promise<void> {
  const lock = new pg.Client({ connectionString: url });
  await lock.connect();
  try {
    while (!((await lock.query('SELECT pg_try_advisory_lock($1) AS taken', [MIGRATION_LOCK])).rows[0] as { taken: boolean }).taken) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await lock.end().catch(() => undefined); // ending the session releases the lock
  }
}
