/**
 * Hot read statements as named prepared statements: PostgreSQL plans each
 * once per connection instead of on every request (planning was a measurable
 * share of the token endpoint's small look-ups). Only for statements outside
 * a transaction: they run on any pooled connection. The name is derived from
 * the text, so a statement is prepared once per connection however many
 * call sites share it. Name the result columns (no `*` over a table): a
 * prepared statement whose columns change under it, by a migration a newer
 * instance ran, fails until its connection closes.
 */
import { createHash } from 'node:crypto';
import pg, { type Pool } from 'pg';
import type { DataSource } from 'typeorm';

const names = new Map<string, string>();

function nameFor(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `behalf_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}

/** TypeORM's pg pool: the connections every other query uses, for code that talks to pg directly. */
export function pgPool(dataSource: DataSource): Pool {
  return (dataSource.driver as unknown as { master: Pool }).master;
}

export async function preparedQuery<T>(dataSource: DataSource, text: string, values: unknown[]): Promise<T[]> {
  const result = await pgPool(dataSource).query({ name: nameFor(text), text, values });
  return result.rows as T[];
}

const genericPlanPools = new WeakMap<DataSource, Pool>();

/**
 * A few connections of their own whose prepared statements always use the
 * generic plan (`plan_cache_mode = force_generic_plan`). PostgreSQL re-plans a
 * prepared statement on every call while a plan for the given values looks
 * cheaper than the generic one; for a large statement whose generic plan is
 * as good in practice (the directory search), that planning cost as much as
 * running it. Not for Behalf's pool: there the setting would also apply to
 * unnamed statements, whose plans need their values (a LIKE prefix, say).
 */
function genericPlanPool(dataSource: DataSource): Pool {
  let pool = genericPlanPools.get(dataSource);
  if (!pool) {
    const options = dataSource.options as { url?: string; applicationName?: string };
    pool = new pg.Pool({
      connectionString: options.url,
      application_name: `${options.applicationName ?? 'behalf'}-generic`,
      options: '-c plan_cache_mode=force_generic_plan',
      max: 4,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30000,
    });
    // An idle connection that breaks (a database restart) is dropped; the next query opens another.
    pool.on('error', () => undefined);
    genericPlanPools.set(dataSource, pool);
  }
  return pool;
}

/** preparedQuery on the generic-plan connections (see genericPlanPool). */
export async function genericPlanQuery<T>(dataSource: DataSource, text: string, values: unknown[]): Promise<T[]> {
  const result = await genericPlanPool(dataSource).query({ name: nameFor(text), text, values });
  return result.rows as T[];
}

/** Closes the generic-plan connections of `dataSource`, if it opened any: call before destroying it. */
export async function closeGenericPlanPool(dataSource: DataSource): Promise<void> {
  const pool = genericPlanPools.get(dataSource);
  genericPlanPools.delete(dataSource);
  await pool?.end();
}
