import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When a re-authentication's grant was revoked (agent sign-out, kill switch,
 * account disabled): its actor token can no longer open or continue an
 * on-behalf session, and later revocations skip it. The partial index keeps
 * "this agent's live re-auth grants" one probe however long the history is.
 */
export class ReauthGrantRevocation1795539800000 implements MigrationInterface {
  name = 'ReauthGrantRevocation1795539800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE on_behalf_reauth ADD COLUMN grant_revoked_at timestamptz`);
    await q.query(`CREATE INDEX on_behalf_reauth_live_grant_idx ON on_behalf_reauth (agent_account_id) WHERE grant_revoked_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS on_behalf_reauth_live_grant_idx`);
    await q.query(`ALTER TABLE on_behalf_reauth DROP COLUMN IF EXISTS grant_revoked_at`);
  }
}
