/**
 * oidc-provider's persistence on PostgreSQL: one `oidc_payload` row per model
 * instance, JSONB payload, with the look-up keys (grant id, session uid, user
 * code) and the expiry copied into indexed columns.
 */
import type { DataSource } from 'typeorm';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { preparedQuery } from '../db/prepared.js';
import { forgetReadAhead, keep, readAheadKey, readingAhead, take } from './read-ahead.js';

export interface AdapterOptions {
  /** Told (and awaited) when an access token's grant is revoked: JWT access tokens under it end too. */
  onGrantRevoked?: (grantId: string) => Promise<unknown>;
  /** Clients come from Behalf's own table (clients/client-store.ts), not from `oidc_payload`. */
  findClient?: (clientId: string) => Promise<Record<string, unknown> | undefined>;
  /** Stores a client oidc-provider registered or updated (RFC 7591/7592), its secret sealed. */
  saveClient?: (clientId: string, metadata: Record<string, unknown>) => Promise<void>;
  /** Removes a client that deleted itself (RFC 7592). */
  removeClient?: (clientId: string) => Promise<void>;
}

/**
 * oidc-provider's Client model on Behalf's `oauth_client` table: read on every client look-up;
 * written only by dynamic registration and its management (the CLI and admin API write directly).
 */
function clientAdapter(options: AdapterOptions): Adapter {
  const unsupported = async () => {
    throw new Error('clients are managed with the Behalf CLI, the admin API or dynamic registration');
  };
  const find = options.findClient!;
  return {
    find: async (id) => (await find(id)) as AdapterPayload | undefined,
    upsert: options.saveClient ? (id, payload) => options.saveClient!(id, payload as Record<string, unknown>) : unsupported,
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
    consume: unsupported,
    destroy: options.removeClient ? (id) => options.removeClient!(id) : unsupported,
    revokeByGrantId: unsupported,
  };
}

type Row = { payload: AdapterPayload; consumed_at: Date | null };

/** The row has not expired (expired rows stay until deleteExpiredPayloads, invisible). */
const LIVE = (alias: string) => `(${alias}.expires_at IS NULL OR ${alias}.expires_at > now())`;

/**
 * An access token with, in the same statement, the session it is bound to
 * and its grant (what oidc-provider reads next; see read-ahead.ts). The
 * conditions on each are findBy's.
 */
const TOKEN_WITH_SESSION_AND_GRANT = `SELECT t.payload, t.consumed_at,
         s.payload AS session_payload, s.consumed_at AS session_consumed_at,
         g.payload AS grant_payload, g.consumed_at AS grant_consumed_at
    FROM oidc_payload t
    LEFT JOIN oidc_payload s ON s.model = 'Session' AND s.uid = t.payload->>'sessionUid' AND ${LIVE('s')}
    LEFT JOIN oidc_payload g ON g.model = 'Grant' AND g.id = t.grant_id AND ${LIVE('g')}
   WHERE t.model = $1 AND t.id = $2 AND ${LIVE('t')}`;

type TokenRow = Row & {
  session_payload: AdapterPayload | null;
  session_consumed_at: Date | null;
  grant_payload: AdapterPayload | null;
  grant_consumed_at: Date | null;
};

/** The models `revokeByGrantId` removes: the tokens and codes issued under a grant (as in oidc-provider's own adapters). */
const GRANT_BOUND_MODELS = [
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
];

/**
 * Look-up keys come straight from requests (codes, tokens, uids). PostgreSQL
 * text cannot hold NUL and would fail the query (a 500): no row can match one.
 */
function storable(key: string): boolean {
  return !key.includes('\u0000');
}

function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(containsNul);
  if (value && typeof value === 'object') return Object.entries(value).some(([key, item]) => key.includes('\u0000') || containsNul(item));
  return false;
}

function toPayload(row: Row | undefined): AdapterPayload | undefined {
  if (!row) return undefined;
  if (row.consumed_at && !row.payload.consumed) {
    return { ...row.payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) };
  }
  return row.payload;
}

export function createAdapterFactory(dataSource: DataSource, options: AdapterOptions = {}) {
  class PostgresAdapter implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      forgetReadAhead();
      // Payloads carry request parameters (state, nonce, login_hint, …) and JSONB cannot hold
      // \u0000: refuse the request as the client's mistake instead of failing with a 500.
      if (containsNul(payload)) throw new errors.InvalidRequest('request parameters must not contain NUL characters');
      // No expiresIn means no expiry. Zero or less means already expired (oidc-provider passes
      // `exp - now` when it re-saves a token), not "never expires".
      const expiresAt = typeof expiresIn === 'number' ? new Date(Date.now() + expiresIn * 1000) : null;
      if (this.model === 'ReplayDetection') return this.insertOnce(id, payload, expiresAt);
      await dataSource.query(
        `INSERT INTO oidc_payload (model, id, payload, grant_id, uid, user_code, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (model, id) DO UPDATE SET
           payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id, uid = EXCLUDED.uid,
           user_code = EXCLUDED.user_code, expires_at = EXCLUDED.expires_at`,
        [this.model, id, payload, payload.grantId ?? null, payload.uid ?? null, payload.userCode ?? null, expiresAt],
      );
    }

    /**
     * oidc-provider's replay check (a DPoP proof's or a client assertion's jti) is find-then-save;
     * two instances given the same proof at once would both find nothing. The insert itself decides:
     * only one request can create the live row, the other is refused as a replay.
     */
    private async insertOnce(id: string, payload: AdapterPayload, expiresAt: Date | null): Promise<void> {
      const inserted = (await dataSource.query(
        `INSERT INTO oidc_payload (model, id, payload, expires_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, expires_at = EXCLUDED.expires_at
           WHERE oidc_payload.expires_at IS NOT NULL AND oidc_payload.expires_at <= now()
         RETURNING 1`,
        [this.model, id, payload, expiresAt],
      )) as unknown[];
      if (!inserted.length) throw new errors.InvalidRequest('replay detected: a proof or assertion (jti) may be used only once');
    }

    /** The live (unexpired) row whose `column` equals `value`. */
    private async findBy(column: 'id' | 'uid' | 'user_code', value: string): Promise<AdapterPayload | undefined> {
      if (!storable(value)) return undefined;
      const rows = await preparedQuery<Row>(
        dataSource,
        `SELECT payload, consumed_at FROM oidc_payload
         WHERE model = $1 AND ${column} = $2 AND ${LIVE('oidc_payload')}`,
        [this.model, value],
      );
      return toPayload(rows[0]);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const kept = take(readAheadKey(this.model, 'id', id));
      if (kept.found) return kept.payload;
      if (this.model === 'AccessToken' && readingAhead()) return this.findTokenReadingAhead(id);
      return this.findBy('id', id);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const kept = take(readAheadKey(this.model, 'uid', uid));
      if (kept.found) return kept.payload;
      return this.findBy('uid', uid);
    }

    /** An access token, keeping its session and grant for the reads that follow in this request. */
    private async findTokenReadingAhead(id: string): Promise<AdapterPayload | undefined> {
      if (!storable(id)) return undefined;
      const [row] = await preparedQuery<TokenRow>(dataSource, TOKEN_WITH_SESSION_AND_GRANT, [this.model, id]);
      const token = toPayload(row);
      if (!row || !token) return token;
      if (typeof token.sessionUid === 'string') {
        keep(
          readAheadKey('Session', 'uid', token.sessionUid),
          toPayload(row.session_payload ? { payload: row.session_payload, consumed_at: row.session_consumed_at } : undefined),
        );
      }
      if (typeof token.grantId === 'string') {
        keep(
          readAheadKey('Grant', 'id', token.grantId),
          toPayload(row.grant_payload ? { payload: row.grant_payload, consumed_at: row.grant_consumed_at } : undefined),
        );
      }
      return token;
    }

    findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.findBy('user_code', userCode);
    }

    async consume(id: string): Promise<void> {
      forgetReadAhead();
      if (!storable(id)) return;
      await dataSource.query(`UPDATE oidc_payload SET consumed_at = now() WHERE model = $1 AND id = $2 AND consumed_at IS NULL`, [
        this.model,
        id,
      ]);
    }

    async destroy(id: string): Promise<void> {
      forgetReadAhead();
      if (!storable(id)) return;
      await dataSource.query(`DELETE FROM oidc_payload WHERE model = $1 AND id = $2`, [this.model, id]);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      forgetReadAhead();
      if (!storable(grantId)) return;
      // Every grant-bound token model (codes, access and refresh tokens, …) dies with its grant.
      // Other rows that merely name the grant (an interaction in progress) are not tokens of it.
      await dataSource.query(`DELETE FROM oidc_payload WHERE grant_id = $1 AND model = ANY($2)`, [grantId, GRANT_BOUND_MODELS]);
      // oidc-provider revokes a grant's tokens model by model; the AccessToken call stands for its JWTs too.
      if (this.model === 'AccessToken') await options.onGrantRevoked?.(grantId);
    }
  }

  const clients = options.findClient ? clientAdapter(options) : undefined;
  return function adapterFor(model: string): Adapter {
    if (model === 'Client' && clients) return clients;
    return new PostgresAdapter(model);
  };
}

/** Deletes expired rows; returns how many. Expired rows are already invisible to `find`. */
export async function deleteExpiredPayloads(dataSource: DataSource, batchSize = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const [row] = (await dataSource.query(
      `WITH deleted AS (
         DELETE FROM oidc_payload WHERE ctid IN (SELECT ctid FROM oidc_payload WHERE expires_at < now() LIMIT $1)
         RETURNING 1
       ) SELECT count(*)::int AS n FROM deleted`,
      [batchSize],
    )) as { n: number }[];
    const deleted = row?.n ?? 0;
    total += deleted;
    if (deleted < batchSize) return total;
  }
}
