/**
 * The directory's reads: contact search (full text over the GIN-indexed
 * `contact.search`, filters on the contact's accounts, offset paging) and one
 * contact with its accounts. Plain SQL with bound parameters: the search
 * needs tsquery operators and EXISTS filters that a query builder would only
 * obscure. Input arrives validated (see directory-params.ts).
 */
import type { DataSource } from 'typeorm';
import type { AccountStatus } from '../../accounts/entities/index.js';

export const ACCOUNT_STATUSES = ['active', 'locked', 'disabled'] as const satisfies readonly AccountStatus[];

export interface ContactSearch {
  /** A tsquery built by search-terms.ts; null: q was given but had nothing searchable (matches nothing). */
  tsquery?: string | null;
  store?: string;
  status?: AccountStatus;
  page: number;
  limit: number;
}

export interface ContactSummary {
  id: string;
  name: string;
  emails: string[];
  phones: string[];
  stores: string[];
}

export interface ContactPage {
  contacts: ContactSummary[];
  total: number;
}

export interface DirectoryAccount {
  id: string;
  email: string | null;
  /** Effective status: an active account inside a lockout period reads as locked. */
  status: AccountStatus;
  lockedUntil: Date | null;
  storeId: string | null;
  store: { slug: string; name: string } | null;
  roles: string[];
}

export interface ContactDetail extends Omit<ContactSummary, 'stores'> {
  accounts: DirectoryAccount[];
}

/** The SQL for a search: WHERE clause, ORDER BY and its parameters (exported for the EXPLAIN test). */
export function searchSql(search: ContactSearch): { where: string; orderBy: string; values: unknown[] } {
  const values: unknown[] = [];
  const param = (value: unknown) => `$${values.push(value)}`;
  const conditions: string[] = [];
  let orderBy = 'lower(c.display_name), c.id';
  if (search.tsquery) {
    const query = param(search.tsquery);
    conditions.push(`c.search @@ ${query}::tsquery`);
    orderBy = `ts_rank(c.search, ${query}::tsquery) DESC, ${orderBy}`;
  }
  if (search.store || search.status) {
    // One account must satisfy both filters: "a locked account at Books", not "an account at Books and another locked one".
    const account = ['a.contact_id = c.id'];
    if (search.store) account.push(`a.store_id = (SELECT id FROM store WHERE slug = ${param(search.store)})`);
    if (search.status === 'active') account.push(`a.status = 'active' AND (a.locked_until IS NULL OR a.locked_until <= now())`);
    if (search.status === 'locked') account.push(`(a.status = 'locked' OR (a.status = 'active' AND a.locked_until > now()))`);
    if (search.status === 'disabled') account.push(`a.status = 'disabled'`);
    conditions.push(`EXISTS (SELECT 1 FROM account a WHERE ${account.join(' AND ')})`);
  }
  return { where: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', orderBy, values };
}

const EFFECTIVE_STATUS = `CASE WHEN a.status = 'active' AND a.locked_until > now() THEN 'locked' ELSE a.status END`;

export class DirectoryQuery {
  constructor(private readonly dataSource: DataSource) {}

  async search(search: ContactSearch): Promise<ContactPage> {
    if (search.tsquery === null) return { contacts: [], total: 0 };
    const { where, orderBy, values } = searchSql(search);
    const [{ total }] = (await this.dataSource.query(`SELECT count(*)::int AS total FROM contact c ${where}`, values)) as [{ total: number }];
    if (total === 0 || (search.page - 1) * search.limit >= total) return { contacts: [], total };
    const rows = (await this.dataSource.query(
      `SELECT c.id, c.display_name AS name, c.emails, c.phones,
              ARRAY(SELECT DISTINCT s.slug FROM account a JOIN store s ON s.id = a.store_id WHERE a.contact_id = c.id ORDER BY s.slug) AS stores
         FROM contact c ${where}
        ORDER BY ${orderBy}
        LIMIT $${values.length + 1} OFFSET $${values.length + 2}`,
      [...values, search.limit, (search.page - 1) * search.limit],
    )) as ContactSummary[];
    return { contacts: rows, total };
  }

  async stores(): Promise<{ slug: string; name: string }[]> {
    return (await this.dataSource.query(`SELECT slug, name FROM store ORDER BY name, slug`)) as { slug: string; name: string }[];
  }

  async contact(id: string): Promise<ContactDetail | undefined> {
    const [contact] = (await this.dataSource.query(`SELECT id, display_name AS name, emails, phones FROM contact WHERE id = $1`, [id])) as Omit<ContactDetail, 'accounts'>[];
    if (!contact) return undefined;
    const rows = (await this.dataSource.query(
      `SELECT a.id, a.email, ${EFFECTIVE_STATUS} AS status, a.locked_until, a.store_id, s.slug, s.name,
              ARRAY(SELECT r.role FROM account_role r WHERE r.account_id = a.id ORDER BY r.role) AS roles
         FROM account a LEFT JOIN store s ON s.id = a.store_id
        WHERE a.contact_id = $1
        ORDER BY s.name NULLS LAST, a.username, a.id`,
      [id],
    )) as { id: string; email: string | null; status: AccountStatus; locked_until: Date | null; store_id: string | null; slug: string | null; name: string | null; roles: string[] }[];
    return {
      ...contact,
      accounts: rows.map((row) => ({
        id: row.id,
        email: row.email,
        status: row.status,
        lockedUntil: row.locked_until,
        storeId: row.store_id,
        store: row.slug ? { slug: row.slug, name: row.name! } : null,
        roles: row.roles,
      })),
    };
  }
}
