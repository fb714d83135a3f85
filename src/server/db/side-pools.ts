/**
 * Small pools of connections beside TypeORM's, for statements that want
 * session settings the rest of Behalf must not inherit: a setting on a pooled
 * connection holds for every statement that later borrows it. Each pool is
 * opened on first use and closed with the database (connect.ts).
 */
import pg, { type Pool } from 'pg';
import type { DataSource } from 'typeorm';

export interface SidePoolSpec {
  /** Shown as `<application name>-<purpose>` in pg_stat_activity. */
  purpose: string;
  /** Session settings for every connection of the pool (`-c name=value`). */
  settings: Record<string, string>;
  max: number;
}

const pools = new WeakMap<DataSource, Map<string, Pool>>();

export function sidePool(dataSource: DataSource, spec: SidePoolSpec): Pool {
  let byPurpose = pools.get(dataSource);
  if (!byPurpose) pools.set(dataSource, (byPurpose = new Map()));
  let pool = byPurpose.get(spec.purpose);
  if (!pool) {
    const options = dataSource.options as { url?: string; applicationName?: string };
    pool = new pg.Pool({
      connectionString: options.url,
      application_name: `${options.applicationName ?? 'behalf'}-${spec.purpose}`,
      options: Object.entries(spec.settings)
        .map(([name, value]) => `-c ${name}=${value}`)
        .join(' '),
      max: spec.max,
      // As Behalf's own pool (data-source.ts): fail fast when the database is unreachable.
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30000,
    });
    // An idle connection that breaks (a database restart) is dropped; the next query opens another.
    pool.on('error', () => undefined);
    byPurpose.set(spec.purpose, pool);
  }
  return pool;
}

/** Closes the side pools of `dataSource` that were opened: before destroying it. */
export async function closeSidePools(dataSource: DataSource): Promise<void> {
  const byPurpose = pools.get(dataSource);
  pools.delete(dataSource);
  await Promise.all([...(byPurpose?.values() ?? [])].map((pool) => pool.end()));
}
