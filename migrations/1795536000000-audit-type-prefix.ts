import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Audit queries by type prefix (`type=admin.*`, a LIKE 'admin.%') could not
 * use the (type, seq) index: under a non-C collation (C.UTF-8 here, a
 * locale elsewhere) a btree serves LIKE only with a pattern operator class.
 * A rare or absent prefix then walked the whole table (1.4–2.9 s at 10 M
 * events). The pattern-ops index serves the prefix and, like the one it
 * replaces, equality on type in seq order.
 *
 * Built CONCURRENTLY, outside a transaction (`transaction = false`, honoured
 * because migrations run in `each` mode): a plain CREATE INDEX holds a SHARE
 * lock on audit_event for the whole build, which stops every append, so
 * every token response, for minutes at 10 M events. A failed concurrent
 * build leaves an INVALID index that IF NOT EXISTS would keep: it is dropped
 * and rebuilt on the next run. Self-contained on purpose (frozen migration).
 */
export class AuditTypePrefix1795536000000 implements MigrationInterface {
  name = 'AuditTypePrefix1795536000000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await createIndexConcurrently(q, 'audit_event_type_prefix_idx', 'audit_event (type varchar_pattern_ops, seq)');
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS audit_event_type_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await createIndexConcurrently(q, 'audit_event_type_idx', 'audit_event (type, seq)');
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS audit_event_type_prefix_idx`);
  }
}

async function createIndexConcurrently(q: QueryRunner, name: string, on: string): Promise<void> {
  const [invalid] = (await q.query(`SELECT 1 FROM pg_index WHERE indexrelid = to_regclass($1) AND NOT indisvalid`, [name])) as unknown[];
  if (invalid) await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
  await q.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON ${on}`);
}
