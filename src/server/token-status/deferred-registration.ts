/**
 * Status entries written with the audit record that names their token, in
 * one statement: a token request used to commit its status row and its
 * audit record as two round trips (two WAL flushes). While a request runs
 * inside `deferringStatuses`, a token's status row waits here; the next
 * audit record of that request carries it (audit-service.ts), and whatever
 * no record carried is written before the response leaves (token-issued.ts).
 * Either way the row is committed before the token is sent (fail closed).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** One token_status row as inserted. */
export interface StatusRow {
  idx: number;
  jti: string;
  clientId: string;
  subject: string;
  expiresAt: Date;
  grantId: string | null;
  onBehalfSessionId: string | null;
  parentJti: string | null;
}

const pending = new AsyncLocalStorage<StatusRow[]>();

/** Runs `work` with status rows deferred to the request's audit record (or its end). */
export function deferringStatuses<T>(work: () => Promise<T>): Promise<T> {
  return pending.run([], work);
}

/** Keeps `row` for the request's next audit record; false when no request is deferring (write it now). */
export function deferStatus(row: StatusRow): boolean {
  const rows = pending.getStore();
  if (!rows) return false;
  rows.push(row);
  return true;
}

/** The rows waiting in this request, handed over (and forgotten here). */
export function takeDeferredStatuses(): StatusRow[] {
  const rows = pending.getStore();
  return rows ? rows.splice(0) : [];
}

/**
 * One INSERT of `rows`, its parameters numbered from `first`: usable alone or as a
 * data-modifying CTE in front of the audit append (PostgreSQL runs it exactly once).
 */
export function statusInsert(rows: StatusRow[], first = 1): { sql: string; params: unknown[] } {
  const p = (offset: number) => `$${first + offset}`;
  return {
    sql: `INSERT INTO token_status (idx, jti, client_id, subject, expires_at, grant_id, on_behalf_session_id, parent_jti)
          SELECT * FROM unnest(${p(0)}::bigint[], ${p(1)}::varchar[], ${p(2)}::varchar[], ${p(3)}::varchar[], ${p(4)}::timestamptz[],
                               ${p(5)}::varchar[], ${p(6)}::uuid[], ${p(7)}::varchar[])`,
    params: [
      rows.map((row) => row.idx),
      rows.map((row) => row.jti),
      rows.map((row) => row.clientId),
      rows.map((row) => row.subject),
      rows.map((row) => row.expiresAt),
      rows.map((row) => row.grantId),
      rows.map((row) => row.onBehalfSessionId),
      rows.map((row) => row.parentJti),
    ],
  };
}
