import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Login on behalf: the agent's re-authentication (what it was for) and the
 * on-behalf sessions opened from it. One session per re-authentication,
 * enforced by a unique key.
 */
export class OnBehalf1795533000000 implements MigrationInterface {
  name = 'OnBehalf1795533000000';

  async up(q: QueryRunner): Promise<void> {
    // Logical audience names (RFC 8693 `audience`) beside the resource URI.
    await q.query(`ALTER TABLE resource_server ADD COLUMN alias varchar(100) UNIQUE CHECK (alias ~ '^[a-z0-9][a-z0-9._:-]*$')`);
    await q.query(`
      CREATE TABLE on_behalf_reauth (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        agent_account_id uuid NOT NULL REFERENCES account (id) ON DELETE CASCADE,
        target_account_id uuid NOT NULL REFERENCES account (id) ON DELETE CASCADE,
        store_id uuid NOT NULL REFERENCES store (id) ON DELETE CASCADE,
        client_id varchar(200) NOT NULL,
        grant_id varchar(256) NOT NULL UNIQUE,
        reason varchar(500) NOT NULL CHECK (length(trim(reason)) > 0),
        ticket varchar(100),
        amr text[] NOT NULL DEFAULT '{}',
        authenticated_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX on_behalf_reauth_agent_idx ON on_behalf_reauth (agent_account_id, created_at)`);

    await q.query(`
      CREATE TABLE on_behalf_session (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        reauth_id uuid NOT NULL UNIQUE REFERENCES on_behalf_reauth (id) ON DELETE RESTRICT,
        agent_account_id uuid NOT NULL REFERENCES account (id) ON DELETE RESTRICT,
        customer_account_id uuid NOT NULL REFERENCES account (id) ON DELETE RESTRICT,
        store_id uuid NOT NULL REFERENCES store (id) ON DELETE RESTRICT,
        client_id varchar(200) NOT NULL,
        reason varchar(500) NOT NULL,
        ticket varchar(100),
        grant_id varchar(256) NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        ended_at timestamptz,
        ended_by varchar(300),
        end_reason varchar(64),
        CHECK (expires_at > started_at),
        CHECK ((ended_at IS NULL) = (end_reason IS NULL))
      )`);
    await q.query(
      `CREATE INDEX on_behalf_session_agent_active_idx ON on_behalf_session (agent_account_id, expires_at) WHERE ended_at IS NULL`,
    );
    await q.query(`CREATE INDEX on_behalf_session_customer_idx ON on_behalf_session (customer_account_id, started_at DESC)`);
    await q.query(`CREATE INDEX on_behalf_session_agent_idx ON on_behalf_session (agent_account_id, started_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS on_behalf_session`);
    await q.query(`DROP TABLE IF EXISTS on_behalf_reauth`);
    await q.query(`ALTER TABLE resource_server DROP COLUMN IF EXISTS alias`);
  }
}
