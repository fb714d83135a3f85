import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Customers in control (issue #19):
 * - `mail_outbox`: mail written in the same transaction as the event that causes it, sent by a
 *   worker with retries (the template data is sealed, and cleared once sent);
 * - `account_token`: single-use links (password reset, email verification), kept as SHA-256 hashes;
 * - the customer's access policy and verified email on `account`, the store's policy on `store`;
 * - `on_behalf_approval`: the customer's answer to an agent's request, and the re-authentication it let through;
 * - `on_behalf_report`: "this wasn't me" reports on a finished session, for the store's admins.
 * Self-contained SQL: a migration must not change when the code does.
 */
export class CustomersInControl1795544000000 implements MigrationInterface {
  name = 'CustomersInControl1795544000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mail_outbox (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        recipient varchar(320) NOT NULL,
        template varchar(64) NOT NULL,
        locale varchar(16) NOT NULL DEFAULT 'en',
        payload text,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz,
        failed_at timestamptz
      )`);
    await q.query(`CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL`);

    await q.query(`
      CREATE TABLE account_token (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES account(id) ON DELETE CASCADE,
        purpose varchar(32) NOT NULL CHECK (purpose IN ('password_reset', 'email_verification')),
        token_hash char(64) NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await q.query(`CREATE INDEX account_token_account_idx ON account_token (account_id, purpose)`);

    await q.query(`ALTER TABLE account ADD COLUMN email_verified_at timestamptz`);
    await q.query(
      `ALTER TABLE account ADD COLUMN access_policy varchar(16) NOT NULL DEFAULT 'without_asking'
         CHECK (access_policy IN ('without_asking', 'after_approval', 'never'))`,
    );
    // Accounts that exist already were made by staff or the seed: their email counts as verified.
    await q.query(`UPDATE account SET email_verified_at = created_at WHERE email IS NOT NULL`);
    await q.query(`ALTER TABLE store ADD COLUMN self_registration boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE store ADD COLUMN allow_never boolean NOT NULL DEFAULT true`);
    await q.query(`ALTER TABLE store ADD COLUMN require_approval boolean NOT NULL DEFAULT false`);

    await q.query(`
      CREATE TABLE on_behalf_approval (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        store_id uuid NOT NULL REFERENCES store(id),
        agent_account_id uuid NOT NULL REFERENCES account(id),
        customer_account_id uuid NOT NULL REFERENCES account(id),
        client_id varchar(256) NOT NULL,
        interaction_uid varchar(128),
        reason text NOT NULL,
        ticket varchar(100),
        amr text[] NOT NULL DEFAULT '{}',
        authenticated_at timestamptz NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
        requested_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        decided_at timestamptz,
        approved_for varchar(16) CHECK (approved_for IN ('session', '24h', '7d')),
        valid_until timestamptz,
        used_by_reauth_id uuid
      )`);
    await q.query(`CREATE INDEX on_behalf_approval_customer_idx ON on_behalf_approval (customer_account_id, status)`);
    await q.query(`CREATE INDEX on_behalf_approval_interaction_idx ON on_behalf_approval (interaction_uid)`);
    await q.query(`CREATE INDEX on_behalf_approval_pending_idx ON on_behalf_approval (expires_at) WHERE status = 'pending'`);
    await q.query(`ALTER TABLE on_behalf_reauth ADD COLUMN approval_id uuid REFERENCES on_behalf_approval(id)`);

    await q.query(`
      CREATE TABLE on_behalf_report (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        session_id uuid NOT NULL UNIQUE REFERENCES on_behalf_session(id),
        customer_account_id uuid NOT NULL REFERENCES account(id),
        store_id uuid NOT NULL REFERENCES store(id),
        comment text,
        reported_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX on_behalf_report_time_idx ON on_behalf_report (reported_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS on_behalf_report`);
    await q.query(`ALTER TABLE on_behalf_reauth DROP COLUMN IF EXISTS approval_id`);
    await q.query(`DROP TABLE IF EXISTS on_behalf_approval`);
    await q.query(`ALTER TABLE store DROP COLUMN IF EXISTS require_approval`);
    await q.query(`ALTER TABLE store DROP COLUMN IF EXISTS allow_never`);
    await q.query(`ALTER TABLE store DROP COLUMN IF EXISTS self_registration`);
    await q.query(`ALTER TABLE account DROP COLUMN IF EXISTS access_policy`);
    await q.query(`ALTER TABLE account DROP COLUMN IF EXISTS email_verified_at`);
    await q.query(`DROP TABLE IF EXISTS account_token`);
    await q.query(`DROP TABLE IF EXISTS mail_outbox`);
  }
}
