import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The IETF Token Status List (draft-ietf-oauth-status-list): one row per JWT
 * access token Behalf issues. `idx` comes from a sequence (never reused, no
 * lock between issuers); the status list of a token is `idx / 2^20`, its index
 * in that list `idx % 2^20`. Lineage (`parent_jti`: the subject token a token was
 * exchanged from, JWT or opaque; `grant_id`; `on_behalf_session_id`) lets one
 * revocation reach every token derived from another by exchange. `status` is the draft's Status Type (0 VALID, 1 INVALID).
 */
export class TokenStatus1795541000000 implements MigrationInterface {
  name = 'TokenStatus1795541000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SEQUENCE token_status_idx_seq AS bigint MINVALUE 0 START WITH 0`);
    await q.query(`
      CREATE TABLE token_status (
        idx bigint PRIMARY KEY,
        jti varchar(256) NOT NULL,
        client_id varchar(256) NOT NULL,
        subject varchar(256) NOT NULL,
        expires_at timestamptz NOT NULL,
        parent_jti varchar(256),
        grant_id varchar(256),
        on_behalf_session_id uuid,
        status smallint NOT NULL DEFAULT 0 CHECK (status IN (0, 1)),
        issued_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        revoked_reason varchar(64)
      )`);
    await q.query(`CREATE UNIQUE INDEX token_status_jti_idx ON token_status (jti)`);
    await q.query(`CREATE INDEX token_status_parent_idx ON token_status (parent_jti) WHERE parent_jti IS NOT NULL`);
    await q.query(`CREATE INDEX token_status_grant_idx ON token_status (grant_id) WHERE grant_id IS NOT NULL`);
    await q.query(`CREATE INDEX token_status_session_idx ON token_status (on_behalf_session_id) WHERE on_behalf_session_id IS NOT NULL`);
    // Rendering a list reads only its revoked entries.
    await q.query(`CREATE INDEX token_status_revoked_idx ON token_status (idx) WHERE status <> 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS token_status`);
    await q.query(`DROP SEQUENCE IF EXISTS token_status_idx_seq`);
  }
}
