import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Grants still to be revoked. Ending an on-behalf session records its grant
 * here in the same transaction; the row is removed once the grant (and every
 * opaque token under it) is revoked, so a revocation that fails is retried by
 * the expiry sweep instead of leaving an orphan grant. Sessions ended before
 * this migration whose grant still exists are queued too.
 */
export class GrantRevocationQueue1795539500000 implements MigrationInterface {
  name = 'GrantRevocationQueue1795539500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE on_behalf_grant_revocation (
        grant_id varchar(256) PRIMARY KEY,
        session_id uuid,
        requested_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX on_behalf_grant_revocation_requested_idx ON on_behalf_grant_revocation (requested_at)`);
    await q.query(`
      INSERT INTO on_behalf_grant_revocation (grant_id, session_id, requested_at)
      SELECT s.grant_id, s.id, s.ended_at FROM on_behalf_session s
       WHERE s.ended_at IS NOT NULL
         AND (EXISTS (SELECT 1 FROM oidc_payload p WHERE p.model = 'Grant' AND p.id = s.grant_id)
              OR EXISTS (SELECT 1 FROM oidc_payload p WHERE p.grant_id = s.grant_id))
      ON CONFLICT (grant_id) DO NOTHING`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS on_behalf_grant_revocation`);
  }
}
