import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Clients administered without SQL:
 * - secret rotation with a grace period: the replaced secret, sealed like the current one, stays
 *   valid until `previous_secret_expires_at`;
 * - `registration_resources`: set for a client registered through RFC 7591 dynamic registration
 *   (NULL otherwise), the resources its initial access token allowed; its updates stay within them;
 * - `initial_access_token_policy`: what each initial access token allows a registration to ask for
 *   (the token itself is an oidc-provider model in oidc_payload, keyed by the same id);
 * - several aliases per resource server (RFC 8693 `audience` as a logical name), the old single
 *   alias carried over.
 */
export class ClientAdministration1795540000000 implements MigrationInterface {
  name = 'ClientAdministration1795540000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE oauth_client
      ADD COLUMN previous_secret_encrypted text,
      ADD COLUMN previous_secret_expires_at timestamptz,
      ADD COLUMN secret_rotated_at timestamptz,
      ADD COLUMN registration_resources text[]`);
    await q.query(`CREATE TABLE initial_access_token_policy (
      id varchar(200) PRIMARY KEY,
      allowed_resources text[] NOT NULL,
      created_by varchar(200) NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL
    )`);
    await q.query(`ALTER TABLE resource_server ADD COLUMN aliases text[] NOT NULL DEFAULT '{}'`);
    await q.query(`UPDATE resource_server SET aliases = ARRAY[alias] WHERE alias IS NOT NULL`);
    await q.query(`ALTER TABLE resource_server DROP COLUMN alias`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE resource_server ADD COLUMN alias varchar(100)`);
    await q.query(`UPDATE resource_server SET alias = aliases[1] WHERE cardinality(aliases) > 0`);
    await q.query(`ALTER TABLE resource_server DROP COLUMN aliases`);
    await q.query(`DROP TABLE IF EXISTS initial_access_token_policy`);
    await q.query(`ALTER TABLE oauth_client
      DROP COLUMN IF EXISTS previous_secret_encrypted,
      DROP COLUMN IF EXISTS previous_secret_expires_at,
      DROP COLUMN IF EXISTS secret_rotated_at,
      DROP COLUMN IF EXISTS registration_resources`);
  }
}
