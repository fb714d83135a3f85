/** Validates the admin API's audit query string at the edge. */
import { AuditCursorError, MAX_PAGE, parseAuditCursor, type AuditQuery } from '../../audit/index.js';

export class QueryError extends Error {
  override name = 'QueryError';
}

const TEXT_FILTERS = { actor: 'actor', subject: 'subject', person: 'person', session: 'sessionId', client: 'clientId' } as const;

/** The query as given: `person`, and `actor`/`subject` other than ids, are names or emails still to resolve. */
export type AdminAuditQuery = AuditQuery & { person?: string };
const KNOWN = new Set([...Object.keys(TEXT_FILTERS), 'type', 'from', 'to', 'before', 'limit']);

function single(query: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw new QueryError(`${name} may be given only once`);
  return value === undefined || value === '' ? undefined : value;
}

function date(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const parsed = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(parsed.getTime())) throw new QueryError(`${name} must be an ISO 8601 date or time`);
  return parsed;
}

function integer(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value) || Number(value) < min || Number(value) > max)
    throw new QueryError(`${name} must be a whole number from ${min} to ${max}`);
  return Number(value);
}

/** A paging cursor, as `next_before` gave it (`q1234`, `s56`): anything else is a 400, never a 500 from the query. */
function cursor(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    parseAuditCursor(value);
  } catch (error) {
    if (error instanceof AuditCursorError) throw new QueryError(error.message);
    throw error;
  }
  return value;
}

export function parseAuditQuery(query: Record<string, string | string[] | undefined>): AdminAuditQuery {
  const unknown = Object.keys(query).filter((key) => !KNOWN.has(key));
  if (unknown.length) throw new QueryError(`unknown parameter ${unknown.join(', ')}`);
  const result: AdminAuditQuery = {};
  for (const [param, field] of Object.entries(TEXT_FILTERS)) {
    const value = single(query, param);
    if (value !== undefined) {
      if (value.length > 300) throw new QueryError(`${param} is too long`);
      // PostgreSQL text cannot hold NUL: left to the query it was a 500 (found by hostile-input.property.test.ts).
      if (value.includes('\u0000')) throw new QueryError(`${param} must not contain NUL characters`);
      result[field] = value;
    }
  }
  const type = single(query, 'type');
  if (type !== undefined) {
    if (!/^[a-z][a-z0-9_.]{0,99}\*?$/.test(type))
      throw new QueryError('type must be an event name such as auth.login.failed, or a prefix such as auth.*');
    result.type = type;
  }
  result.from = date('from', single(query, 'from'));
  result.to = date('to', single(query, 'to'));
  if (result.from && result.to && result.from >= result.to) throw new QueryError('from must be before to');
  result.before = cursor(single(query, 'before'));
  result.limit = integer('limit', single(query, 'limit'), 1, MAX_PAGE);
  return result;
}
