/**
 * A DPoP replay store in a SQL table (PostgreSQL), for resource servers that
 * run several instances: the insert itself decides whether a proof's `jti`
 * is new, so two instances given the same proof at once cannot both accept it
 * (RFC 9449 §11.1). Expired entries are swept now and then by whichever
 * instance claims next.
 */
import type { ReplayStore } from './dpop.js';

export type SqlQuery = (sql: string, params: unknown[]) => Promise<unknown[]>;

const TABLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function checkedTable(table: string): string {
  if (!TABLE_NAME.test(table)) throw new Error(`the DPoP replay table name must be a plain lower-case identifier, got ${table}`);
  return table;
}

/**
 * The table the store needs (run it in your migrations).
 *
 * @example
 * await queryRunner.query(dpopReplayTableSql('orders_dpop_replay'));
 */
export function dpopReplayTableSql(table: string): string {
  const name = checkedTable(table);
  return `CREATE TABLE IF NOT EXISTS ${name} (key varchar(400) PRIMARY KEY, expires_at timestamptz NOT NULL)`;
}

/**
 * @example
 * const replay = sqlReplayStore((sql, params) => dataSource.query(sql, params), { table: 'orders_dpop_replay' });
 * const verifier = createAccessTokenVerifier({ issuer, audience, dpop: { replay } });
 */
export function sqlReplayStore(query: SqlQuery, options: { table: string; sweepEverySeconds?: number }): ReplayStore {
  const table = checkedTable(options.table);
  const sweepEveryMs = (options.sweepEverySeconds ?? 60) * 1000;
  let lastSweep = Date.now();
  return {
    async claim(key, expiresAt) {
      if (Date.now() - lastSweep > sweepEveryMs) {
        lastSweep = Date.now();
        // Best effort: a failed sweep only leaves expired rows for the next one.
        void query(`DELETE FROM ${table} WHERE expires_at < now()`, []).catch(() => undefined);
      }
      // An expired entry with the same key may be taken over; a live one means a replay.
      const rows = await query(
        `INSERT INTO ${table} (key, expires_at) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE ${table}.expires_at <= now()
         RETURNING 1`,
        [key.slice(0, 400), new Date(expiresAt)],
      );
      return rows.length === 1;
    },
  };
}
