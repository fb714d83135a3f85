import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Audit queries by type prefix (`type=admin.*`, a LIKE 'admin.%') could not
 * use the (type, seq) index: under a non-C collation (C.UTF-8 here, a
 * locale elsewhere) a btree serves LIKE only with a pattern operator class.
 * A rare or absent prefix then walked the whole table (1.4–2.9 s at 10 M
 * events). The pattern-ops index serves the prefix and, like the one it
 * replaces, equality on type in seq order.
 */
export class AuditTypePrefix1795536000000 implements MigrationInterface {
  name = 'AuditTypePrefix1795536000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX audit_event_type_prefix_idx ON audit_event (type varchar_pattern_ops, seq)`);
    await q.query(`DROP INDEX audit_event_type_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX audit_event_type_idx ON audit_event (type, seq)`);
    await q.query(`DROP INDEX audit_event_type_prefix_idx`);
  }
}
