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
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { sidePool } from './side-pools.js';

const names = new Map<string, string>();

function nameFor(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `behalf_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}

/** TypeORM's pg pool: the connections every other query uses. */
function pgPool(dataSource: DataSource): Pool {
  return (dataSource.driver as unknown as { master: Pool }).master;
}

export async function preparedQuery<T>(dataSource: DataSource, text: string, values: unknown[]): Promise<T[]> {
  const result = await pgPool(dataSource).query({ name: nameFor(text), text, values });
  return result.rows as T[];
}

/**
 * Connections whose prepared statements always use the generic plan
 * (`plan_cache_mode = force_generic_plan`). PostgreSQL re-plans a prepared
 * statement on every call while a plan for the given values looks cheaper
 * than the generic one; for a large statement whose generic plan is as good
 * in practice (the directory search), that planning cost as much as running
 * it. Not Behalf's pool: there the setting would also apply to unnamed
 * statements, whose plans need their values (a LIKE prefix, say).
 */
const GENERIC_PLANS = { purpose: 'generic', settings: { plan_cache_mode: 'force_generic_plan' }, max: 4 };

/** preparedQuery on the generic-plan connections. */
export async function genericPlanQuery<T>(dataSource: DataSource, text: string, values: unknown[]): Promise<T[]> {
  const result = await sidePool(dataSource, GENERIC_PLANS).query({ name: nameFor(text), text, values });
  return result.rows as T[];
}
