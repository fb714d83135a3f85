import type { MigrationInterface, QueryRunner } from 'typeorm';
import { auditSchemaDown, auditSchemaUp } from '../src/audit/schema.js';

/** Behalf's append-only, hash-chained audit trail and its signed checkpoints. */
export class AuditTrail1795531940838 implements MigrationInterface {
  name = 'AuditTrail1795531940838';

  async up(q: QueryRunner): Promise<void> {
    for (const statement of auditSchemaUp('audit_event')) await q.query(statement);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const statement of auditSchemaDown('audit_event')) await q.query(statement);
  }
}
