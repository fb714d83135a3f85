import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Counters of rate-limiter-flexible, shared by every Behalf instance. */
export class RateLimits1795534000000 implements MigrationInterface {
  name = 'RateLimits1795534000000';

  async up(q: QueryRunner): Promise<void> {
    // The layout rate-limiter-flexible's PostgreSQL store expects.
    await q.query(`CREATE TABLE rate_limit (key varchar(255) PRIMARY KEY, points integer NOT NULL DEFAULT 0, expire bigint)`);
    await q.query(`CREATE INDEX rate_limit_expire_idx ON rate_limit (expire)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS rate_limit`);
  }
}
