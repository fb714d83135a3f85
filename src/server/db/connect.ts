/** Connects to PostgreSQL (DATABASE_URL, or the embedded server) and applies migrations. */
import type { DataSource } from 'typeorm';
import type { Config } from '../../../config/load.js';
import type { Logger } from '../observability/logger.js';
import { createDataSource, migrate } from './data-source.js';
import { closeSidePools } from './side-pools.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded.js';

export interface Database {
  dataSource: DataSource;
  url: string;
  embedded: boolean;
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

export async function connectDatabase(config: Config, logger: Logger, options: { migrate?: boolean } = {}): Promise<Database> {
  let embedded: EmbeddedDatabase | undefined;
  let url = config.database.url;
  if (!url) {
    try {
      embedded = await startEmbeddedPostgres({ dir: config.database.embeddedDir, onLog: (line) => logger.debug('embedded postgres', { line: line.trim() }) });
    } catch (error) {
      throw new DatabaseError(`cannot start the embedded PostgreSQL in ${config.database.embeddedDir}: ${(error as Error)?.message ?? error}`);
    }
    url = embedded.url;
  }
  const dataSource = createDataSource({ url, poolSize: config.database.poolSize });
  try {
    await dataSource.initialize();
  } catch (error) {
    await embedded?.stop();
    throw new DatabaseError(`cannot connect to PostgreSQL at ${redactUrl(url)}: ${(error as Error).message}`);
  }
  if (options.migrate ?? config.database.migrateOnStart) {
    const applied = await migrate(dataSource);
    for (const name of applied) logger.info('migration applied', { event: 'db.migrated', migration: name });
  }
  return {
    dataSource,
    url,
    embedded: !!embedded,
    async close() {
      await closeSidePools(dataSource);
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded?.stop();
    },
  };
}
