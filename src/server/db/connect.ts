/**
 * Connects to PostgreSQL (DATABASE_URL, or the embedded server) as the runtime
 * role and applies migrations as the owner (DATABASE_MIGRATION_URL, the
 * embedded superuser, or DATABASE_URL itself when no owner is named).
 */
import type { DataSource } from 'typeorm';
import type { Config } from '../../../config/load.js';
import type { Logger } from '../observability/logger.js';
import { createDataSource, migrate } from './data-source.js';
import { closeSidePools } from './side-pools.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded.js';

export interface Database {
  /** The runtime role's connections: everything Behalf does while it runs. */
  dataSource: DataSource;
  /** The runtime role's URL. */
  url: string;
  /** The owner's URL (migrations, administration); `url` itself when no separate owner is configured. */
  ownerUrl: string;
  embedded: boolean;
  /** Applies pending migrations as the owner, then re-grants the runtime role; returns the migrations' names. */
  migrate(): Promise<string[]>;
  close(): Promise<void>;
}

export class DatabaseError extends Error {
  override name = 'DatabaseError';
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

async function initialize(dataSource: DataSource, url: string): Promise<void> {
  try {
    await dataSource.initialize();
  } catch (error) {
    throw new DatabaseError(`cannot connect to PostgreSQL at ${redactUrl(url)}: ${(error as Error).message}`);
  }
}

/** Migrates with a DataSource of the owner's, opened for this and closed after. */
async function migrateAsOwner(ownerUrl: string, runtime: DataSource): Promise<string[]> {
  const [{ role }] = (await runtime.query('SELECT current_user AS role')) as [{ role: string }];
  const owner = createDataSource({ url: ownerUrl, poolSize: 2, applicationName: 'behalf-migrate' });
  await initialize(owner, ownerUrl);
  try {
    return await migrate(owner, { runtimeRole: role });
  } finally {
    await owner.destroy();
  }
}

interface Location {
  runtimeUrl: string;
  ownerUrl: string;
  embedded?: EmbeddedDatabase;
}

/** DATABASE_URL (with DATABASE_MIGRATION_URL, or alone for both roles), else the embedded server's two roles. */
async function locate(config: Config, logger: Logger): Promise<Location> {
  const { url, migrationUrl, embeddedDir } = config.database;
  if (url) return { runtimeUrl: url, ownerUrl: migrationUrl ?? url };
  try {
    const embedded = await startEmbeddedPostgres({
      dir: embeddedDir,
      onLog: (line) => logger.debug('embedded postgres', { line: line.trim() }),
      onNotice: (line) => logger.info(line, { event: 'db.embedded.relocated' }),
    });
    return { runtimeUrl: embedded.runtimeUrl, ownerUrl: embedded.url, embedded };
  } catch (error) {
    throw new DatabaseError(`cannot start the embedded PostgreSQL in ${embeddedDir}: ${(error as Error)?.message ?? error}`);
  }
}

export async function connectDatabase(config: Config, logger: Logger, options: { migrate?: boolean } = {}): Promise<Database> {
  const { runtimeUrl, ownerUrl, embedded } = await locate(config, logger);
  const dataSource = createDataSource({ url: runtimeUrl, poolSize: config.database.poolSize });
  const database: Database = {
    dataSource,
    url: runtimeUrl,
    ownerUrl,
    embedded: !!embedded,
    // One role for both: migrate as today, on the app's own connections.
    migrate: () => (ownerUrl === runtimeUrl ? migrate(dataSource) : migrateAsOwner(ownerUrl, dataSource)),
    async close() {
      await closeSidePools(dataSource);
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded?.stop();
    },
  };
  try {
    await initialize(dataSource, runtimeUrl);
    if (options.migrate ?? config.database.migrateOnStart) {
      const applied = await database.migrate();
      for (const name of applied) logger.info('migration applied', { event: 'db.migrated', migration: name });
    }
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}
