import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The orders chain gets the type-prefix index Behalf's got in its migration
 * 1795536000000: under a non-C collation the (type, seq) btree cannot serve
 * `type LIKE 'resource.order.%'`, so a prefix query walked the whole table.
 * The pattern-ops index serves prefixes and equality in seq order.
 *
 * Built CONCURRENTLY, outside a transaction (`transaction = false`, honoured
 * because the orders data source runs migrations in `each` mode), so writes,
 * which append to this chain, are not stopped for the build. A failed
 * concurrent build leaves an INVALID index that IF NOT EXISTS would keep: it
 * is dropped and rebuilt on the next run. Self-contained (frozen migration).
 */
export class OrdersAuditTypePrefix1795540000002 implements MigrationInterface {
  name = 'OrdersAuditTypePrefix1795540000002';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await createIndexConcurrently(q, 'orders_audit_event_type_prefix_idx', 'orders_audit_event (type varchar_pattern_ops, seq)');
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS orders_audit_event_type_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await createIndexConcurrently(q, 'orders_audit_event_type_idx', 'orders_audit_event (type, seq)');
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS orders_audit_event_type_prefix_idx`);
  }
}

async function createIndexConcurrently(q: QueryRunner, name: string, on: string): Promise<void> {
  const [invalid] = (await q.query(`SELECT 1 FROM pg_index WHERE indexrelid = to_regclass($1) AND NOT indisvalid`, [name])) as unknown[];
  if (invalid) await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
  await q.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON ${on}`);
}
