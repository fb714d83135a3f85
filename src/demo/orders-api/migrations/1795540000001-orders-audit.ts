import type { MigrationInterface, QueryRunner } from 'typeorm';
import { auditSchemaDown, auditSchemaUp } from '../../../audit/index.js';

/** The orders API's own chained audit trail (same guarantees as Behalf's, separate chain). */
export class OrdersAudit1795540000001 implements MigrationInterface {
  name = 'OrdersAudit1795540000001';

  async up(q: QueryRunner): Promise<void> {
    for (const statement of auditSchemaUp('orders_audit_event')) await q.query(statement);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const statement of auditSchemaDown('orders_audit_event')) await q.query(statement);
  }
}
