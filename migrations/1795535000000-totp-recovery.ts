import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Second factor for staff: recovery codes (hashes only), the last accepted
 * TOTP time step (so a code cannot be replayed within its window, across
 * instances) and the password-verified state of an interaction waiting for
 * its code (kept server-side, never in a form field).
 */
export class TotpRecovery1795535000000 implements MigrationInterface {
  name = 'TotpRecovery1795535000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE totp_recovery_code (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES account(id) ON DELETE CASCADE,
        code_hash varchar(64) NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (account_id, code_hash)
      )`);
    await q.query(`ALTER TABLE account ADD COLUMN totp_last_step bigint`);
    await q.query(`
      CREATE TABLE totp_pending (
        interaction_uid varchar(128) PRIMARY KEY,
        account_id uuid NOT NULL REFERENCES account(id) ON DELETE CASCADE,
        state jsonb NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX totp_pending_expires_idx ON totp_pending (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS totp_pending`);
    await q.query(`ALTER TABLE account DROP COLUMN IF EXISTS totp_last_step`);
    await q.query(`DROP TABLE IF EXISTS totp_recovery_code`);
  }
}
