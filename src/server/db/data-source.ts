import 'reflect-metadata';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { migrations } from '../../../migrations/index.js';
import { entities } from './entities.js';

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

/** Applies pending migrations; returns their names. Instances starting together take turns. */
export async function migrate(dataSource: DataSource): Promise<string[]> {
  // A session-level lock on a connection of its own, outside the pool (which may hold one connection only).
  const lock = new pg.Client({ connectionString: (dataSource.options as { url: string }).url });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await lock.end().catch(() => undefined); // ending the session releases the lock
  }
}
