import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * DPoP proofs seen by the orders API (RFC 9449 §11.1): one row per proof key and jti until its
 * acceptance window has passed, shared by every instance (the kit's sqlReplayStore).
 */
export class OrdersDpopReplay1795542000000 implements MigrationInterface {
  name = 'OrdersDpopReplay1795542000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE orders_dpop_replay (key varchar(400) PRIMARY KEY, expires_at timestamptz NOT NULL)`);
    await q.query(`CREATE INDEX orders_dpop_replay_expires_idx ON orders_dpop_replay (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE orders_dpop_replay`);
  }
}
