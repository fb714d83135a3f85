/** Validates the directory API's query strings at the edge: unknown, repeated or out-of-range parameters are 400s. */
import type { AccountStatus } from '../../accounts/entities/index.js';
import { ACCOUNT_STATUSES, type ContactSearch } from './directory-query.js';
import { contactTsQuery, namePrefix, SearchTermsError } from './search-terms.js';
import { isUuid } from '../../common/uuid.js';

export class DirectoryParamError extends Error {
  override name = 'DirectoryParamError';
}

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;
/** Offset paging: deep pages cost a scan of everything before them, so they end here (refine the search instead). */
export const MAX_PAGE = 1000;

type Query = Record<string, string | string[] | undefined>;

export function rejectUnknown(query: Query, known: readonly string[]): void {
  const unknown = Object.keys(query).filter((key) => !known.includes(key));
  if (unknown.length) throw new DirectoryParamError(`unknown parameter ${unknown.join(', ')}`);
}

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw new DirectoryParamError(`${name} may be given only once`);
  return value === undefined || value === '' ? undefined : value;
}

function integer(query: Query, name: string, fallback: number, max: number): number {
  const value = single(query, name);
  if (value === undefined) return fallback;
  if (!/^\d{1,7}$/.test(value) || Number(value) < 1 || Number(value) > max)
    throw new DirectoryParamError(`${name} must be a whole number from 1 to ${max}`);
  return Number(value);
}

export function parseContactSearch(query: Query): ContactSearch {
  rejectUnknown(query, ['q', 'store', 'status', 'page', 'limit']);
  const search: ContactSearch = { page: integer(query, 'page', 1, MAX_PAGE), limit: integer(query, 'limit', DEFAULT_LIMIT, MAX_LIMIT) };
  const q = single(query, 'q');
  if (q !== undefined) {
    // PostgreSQL text cannot hold NUL; other control characters are simply not word characters.
    if (q.includes('\u0000')) throw new DirectoryParamError('q must not contain NUL characters');
    try {
      search.tsquery = contactTsQuery(q) ?? null;
      const prefix = search.tsquery ? namePrefix(q) : undefined;
      if (prefix) search.namePrefix = prefix;
    } catch (error) {
      if (error instanceof SearchTermsError) throw new DirectoryParamError(error.message);
      throw error;
    }
  }
  const store = single(query, 'store');
  if (store !== undefined) {
    if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(store)) throw new DirectoryParamError('store must be a store slug such as electronics');
    search.store = store;
  }
  const status = single(query, 'status');
  if (status !== undefined) {
    if (!(ACCOUNT_STATUSES as readonly string[]).includes(status))
      throw new DirectoryParamError(`status must be one of ${ACCOUNT_STATUSES.join(', ')}`);
    search.status = status as AccountStatus;
  }
  return search;
}

export function parseContactId(id: string | undefined): string {
  if (!id || !isUuid(id)) throw new DirectoryParamError('the contact must be named by its id (a UUID)');
  return id.toLowerCase();
}
