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
