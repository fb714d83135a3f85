import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The foundation: stores, contacts, accounts, roles and permissions, the
 * oidc-provider payload table, signing keys, clients and resource servers.
 */
export class InitialSchema1795531125052 implements MigrationInterface {
  name = 'InitialSchema1795531125052';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE store (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        slug varchar(64) NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$'),
        name varchar(200) NOT NULL,
        base_url varchar(2000),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);

    // array_to_string is only STABLE, so the search document is built by an
    // IMMUTABLE function of the row's own values (safe: it reads nothing else).
    await q.query(`
      CREATE FUNCTION contact_search_document(display_name text, first_name text, last_name text, emails text[], phones text[])
      RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT to_tsvector('simple',
          coalesce(display_name, '') || ' ' || coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' ||
          array_to_string(emails, ' ') || ' ' ||
          array_to_string(phones, ' ') || ' ' ||
          regexp_replace(array_to_string(phones, ' '), '[^0-9 ]', '', 'g') || ' ' ||
          regexp_replace(array_to_string(phones, ' '), '[^0-9]', '', 'g'))
      $$`);
    await q.query(`
      CREATE TABLE contact (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        first_name varchar(200) NOT NULL DEFAULT '',
        last_name varchar(200) NOT NULL DEFAULT '',
        display_name varchar(400) NOT NULL,
        emails text[] NOT NULL DEFAULT '{}',
        phones text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        search tsvector GENERATED ALWAYS AS (contact_search_document(display_name, first_name, last_name, emails, phones)) STORED
      )`);
    await q.query(`CREATE INDEX contact_search_idx ON contact USING gin (search)`);
    await q.query(`CREATE INDEX contact_display_name_idx ON contact (lower(display_name), id)`);

    await q.query(`
      CREATE TABLE account (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        store_id uuid REFERENCES store (id) ON DELETE RESTRICT,
        contact_id uuid REFERENCES contact (id) ON DELETE SET NULL,
        username varchar(320) NOT NULL CHECK (username = lower(username)),
        email varchar(320),
        display_name varchar(400) NOT NULL,
        password_hash varchar(100),
        status varchar(16) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'locked', 'disabled')),
        failed_login_count integer NOT NULL DEFAULT 0,
        locked_until timestamptz,
        totp_secret_encrypted text,
        password_changed_at timestamptz,
        last_login_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT account_store_username_key UNIQUE NULLS NOT DISTINCT (store_id, username)
      )`);
    await q.query(`CREATE INDEX account_contact_idx ON account (contact_id)`);
    await q.query(`CREATE INDEX account_username_idx ON account (username)`);

    await q.query(`
      CREATE TABLE role (
        name varchar(32) PRIMARY KEY,
        description varchar(400) NOT NULL
      )`);
    await q.query(`
      INSERT INTO role (name, description) VALUES
        ('customer', 'Signs in to a store''s storefront'),
        ('support', 'Back-office staff: helps customers, may log in on behalf where granted'),
        ('admin', 'Back-office administrator: clients, accounts, keys, audit')`);
    await q.query(`
      CREATE TABLE account_role (
        account_id uuid NOT NULL REFERENCES account (id) ON DELETE CASCADE,
        role varchar(32) NOT NULL REFERENCES role (name),
        PRIMARY KEY (account_id, role)
      )`);

    await q.query(`
      CREATE TABLE permission_grant (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES account (id) ON DELETE CASCADE,
        permission varchar(100) NOT NULL,
        store_id uuid REFERENCES store (id) ON DELETE CASCADE,
        granted_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT permission_grant_key UNIQUE NULLS NOT DISTINCT (account_id, permission, store_id)
      )`);
    await q.query(`COMMENT ON COLUMN permission_grant.store_id IS 'NULL: the permission holds for every store'`);

    await q.query(`
      CREATE TABLE oidc_payload (
        model varchar(64) NOT NULL,
        id varchar(256) NOT NULL,
        payload jsonb NOT NULL,
        grant_id varchar(256),
        uid varchar(256),
        user_code varchar(256),
        expires_at timestamptz,
        consumed_at timestamptz,
        PRIMARY KEY (model, id)
      )`);
    await q.query(`CREATE INDEX oidc_payload_grant_id_idx ON oidc_payload (grant_id) WHERE grant_id IS NOT NULL`);
    await q.query(`CREATE INDEX oidc_payload_uid_idx ON oidc_payload (uid) WHERE uid IS NOT NULL`);
    await q.query(`CREATE INDEX oidc_payload_user_code_idx ON oidc_payload (user_code) WHERE user_code IS NOT NULL`);
    await q.query(`CREATE INDEX oidc_payload_expires_at_idx ON oidc_payload (expires_at) WHERE expires_at IS NOT NULL`);

    await q.query(`
      CREATE TABLE signing_key (
        kid varchar(64) PRIMARY KEY,
        alg varchar(16) NOT NULL CHECK (alg IN ('ES256', 'RS256', 'PS256', 'EdDSA')),
        status varchar(16) NOT NULL CHECK (status IN ('published', 'active', 'inactive', 'retired')),
        public_jwk jsonb NOT NULL,
        private_jwk_encrypted text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        activated_at timestamptz,
        retired_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // At most one key signs per algorithm.
    await q.query(`CREATE UNIQUE INDEX signing_key_one_active_per_alg ON signing_key (alg) WHERE status = 'active'`);

    await q.query(`
      CREATE TABLE resource_server (
        identifier varchar(2000) PRIMARY KEY,
        name varchar(200) NOT NULL,
        token_format varchar(16) NOT NULL DEFAULT 'jwt' CHECK (token_format IN ('jwt', 'opaque')),
        scopes text[] NOT NULL DEFAULT '{}',
        access_token_ttl integer CHECK (access_token_ttl BETWEEN 30 AND 86400),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE oauth_client (
        client_id varchar(200) PRIMARY KEY,
        client_secret_encrypted text,
        metadata jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'oauth_client',
      'resource_server',
      'signing_key',
      'oidc_payload',
      'permission_grant',
      'account_role',
      'role',
      'account',
      'contact',
      'store',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
    await q.query(`DROP FUNCTION IF EXISTS contact_search_document(text, text, text, text[], text[])`);
  }
}
