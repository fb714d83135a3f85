/**
 * The status of every JWT access token Behalf issues (table token_status, see
 * migration 1795541000000): registration before a token leaves, revocation
 * that reaches every token derived from a revoked one (a recursive walk over
 * `parent_jti`), and the revoked entries of one list for rendering it.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { LIST_SIZE, listPosition } from './list-encoding.js';
import { statusInsert, type StatusRow } from './deferred-registration.js';

type Queryable = Pick<DataSource | EntityManager, 'query'>;

export interface TokenStatusEntry {
  jti: string;
  clientId: string;
  /** `sub`: an account id, or the client id of a client's own token. */
  subject: string;
  expiresAt: Date;
  /** The grant whose revocation ends this token (its own, or an opaque subject token's). */
  grantId?: string;
  onBehalfSessionId?: string;
  /** The subject token this one was derived from by exchange (its `jti`; a JWT or an opaque token). */
  parentJti?: string;
}

/** The `status` claim (§6.2): where the token's status is, and at which index. */
export interface StatusClaim {
  status_list: { idx: number; uri: string };
}

export type RevocationReason = 'revoked' | 'on_behalf_ended' | 'grant_revoked';

/** Which tokens a revocation starts from; every token derived from them goes too. */
export type RevocationRoots = { jti: string } | { grantId: string } | { sessionId: string };

/** A token revoked by its jti may be opaque (not listed itself): the walk starts from the jti either way. */
const ROOTS = {
  jti: 'SELECT $1::varchar AS jti',
  grantId: 'SELECT jti FROM token_status WHERE grant_id = $1',
  sessionId: 'SELECT jti FROM token_status WHERE on_behalf_session_id = $1',
} as const;

export function statusListUri(issuer: string, listId: number): string {
  return `${issuer.replace(/\/+$/, '')}/status-lists/${listId}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The row that lists `entry` at `idx` (an on-behalf session id that is not a UUID is not kept). */
export function statusRow(entry: TokenStatusEntry, idx: number): StatusRow {
  return {
    idx,
    jti: entry.jti,
    clientId: entry.clientId,
    subject: entry.subject,
    expiresAt: entry.expiresAt,
    grantId: entry.grantId ?? null,
    onBehalfSessionId: entry.onBehalfSessionId && UUID.test(entry.onBehalfSessionId) ? entry.onBehalfSessionId : null,
    parentJti: entry.parentJti ?? null,
  };
}

/** The `status` claim of the token listed at global index `idx`. */
export function statusClaim(issuer: string, idx: number): StatusClaim {
  const position = listPosition(idx);
  return { status_list: { idx: position.idx, uri: statusListUri(issuer, position.listId) } };
}

/** Writes status rows on their own (when no audit record carries them; see deferred-registration.ts). */
export async function insertStatuses(db: Queryable, rows: StatusRow[]): Promise<void> {
  if (!rows.length) return;
  const { sql, params } = statusInsert(rows);
  await db.query(sql, params);
}

/** A registered token's status: 0 VALID, 1 INVALID; undefined when Behalf never listed it. */
export async function tokenStatus(db: Queryable, jti: string): Promise<number | undefined> {
  const [row] = (await db.query(`SELECT status FROM token_status WHERE jti = $1`, [jti])) as { status: number }[];
  return row?.status;
}

/**
 * Marks the root tokens and every token derived from them (at any depth) INVALID;
 * returns how many changed. Run it inside the transaction of what caused it.
 */
export async function revokeTokens(db: Queryable, roots: RevocationRoots, reason: RevocationReason): Promise<number> {
  const key = Object.keys(roots)[0] as keyof typeof ROOTS;
  const value = (roots as Record<string, string>)[key]!;
  if (key === 'sessionId' && !UUID.test(value)) return 0;
  const [row] = (await db.query(
    `WITH RECURSIVE tree(jti) AS (
       ${ROOTS[key]}
       UNION
       SELECT t.jti FROM token_status t JOIN tree ON t.parent_jti = tree.jti
     ), flipped AS (
       UPDATE token_status s SET status = 1, revoked_at = now(), revoked_reason = $2
         FROM tree WHERE s.jti = tree.jti AND s.status = 0 RETURNING s.idx
     ) SELECT count(*)::int AS n FROM flipped`,
    [value, reason],
  )) as { n: number }[];
  return row!.n;
}

/** Indexes (within the list) of the INVALID entries of list `listId`. */
export async function invalidIndexes(db: Queryable, listId: number): Promise<number[]> {
  const rows = (await db.query(`SELECT idx FROM token_status WHERE status <> 0 AND idx >= $1 AND idx < $2`, [
    listId * LIST_SIZE,
    (listId + 1) * LIST_SIZE,
  ])) as { idx: string }[];
  return rows.map((row) => Number(row.idx) - listId * LIST_SIZE);
}

/** Whether any token is listed in `listId` (lists beyond the last issued index do not exist yet). */
export async function listExists(db: Queryable, listId: number): Promise<boolean> {
  const [row] = (await db.query(`SELECT EXISTS (SELECT 1 FROM token_status WHERE idx >= $1 AND idx < $2) AS found`, [
    listId * LIST_SIZE,
    (listId + 1) * LIST_SIZE,
  ])) as { found: boolean }[];
  return row!.found;
}
