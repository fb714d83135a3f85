import 'reflect-metadata';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { migrations } from '../../../migrations/index.js';
import { entities } from './entities.js';
import { applyRuntimeGrants } from './runtime-grants.js';

export interface DataSourceOptions {
  url: string;
  poolSize?: number;
  applicationName?: string;
}

/** Behalf's TypeORM DataSource: schema changes only through reviewed migrations. */
export function createDataSource({ url, poolSize = 10, applicationName = 'behalf' }: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities,
    migrations,
    synchronize: false,
    migrationsRun: false,
    migrationsTransactionMode: 'each',
    logging: false,
    applicationName,
    poolSize,
    extra: {
      // Fail fast instead of hanging when the database is unreachable.
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30000,
    },
  });
}

/** Serialises migrations across instances starting at once ("bm1g"). */
const MIGRATION_LOCK = 0x626d_3167;

export interface MigrateOptions {
  /** The runtime role to (re-)grant its privileges to afterwards (runtime-grants.ts), when it is not the owner. */
  runtimeRole?: string;
}

/**
 * Applies pending migrations as the owner (`dataSource`'s role); returns their
 * names. Instances starting together take turns, grants included (concurrent
 * GRANTs on one table fail with "tuple concurrently updated").
 */
export async function migrate(dataSource: DataSource, options: MigrateOptions = {}): Promise<string[]> {
  // A session-level lock on a connection of its own, outside the pool (which may hold one connection only).
  const lock = new pg.Client({ connectionString: (dataSource.options as { url: string }).url });
  await lock.connect();
  try {
    // Polled, never waited for: a session waiting inside pg_advisory_lock holds a snapshot, and
    // CREATE INDEX CONCURRENTLY (1795536000000, 1795537000000) waits for every older snapshot, so
    // the instance holding the lock would wait for the one waiting for it, forever.
    while (!((await lock.query('SELECT pg_try_advisory_lock($1) AS taken', [MIGRATION_LOCK])).rows[0] as { taken: boolean }).taken) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    if (options.runtimeRole) await applyRuntimeGrants(dataSource, options.runtimeRole);
    return applied.map((migration) => migration.name);
  } finally {
    await lock.end().catch(() => undefined); // ending the session releases the lock
  }
}
