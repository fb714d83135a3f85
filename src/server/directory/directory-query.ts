/**
 * The directory's reads: contact search (full text over the GIN-indexed
 * `contact.search`, filters on the contact's accounts, offset paging) and one
 * contact with its accounts. Plain SQL with bound parameters: the search
 * needs tsquery operators and EXISTS filters that a query builder would only
 * obscure. Input arrives validated (see directory-params.ts).
 */
import type { DataSource } from 'typeorm';
import type { AccountStatus } from '../../accounts/entities/index.js';
import { genericPlanQuery } from '../db/prepared.js';

export const ACCOUNT_STATUSES = ['active', 'locked', 'disabled'] as const satisfies readonly AccountStatus[];

export interface ContactSearch {
  /** A tsquery built by search-terms.ts; null: q was given but had nothing searchable (matches nothing). */
  tsquery?: string | null;
  /** q as one lower-case name prefix (search-terms.ts `namePrefix`), when it is one: allows the name-prefix path. */
  namePrefix?: string;
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
  /** Matches counted, at most MATCH_CAP. */
  total: number;
  /** False when more than MATCH_CAP contacts match: `total` is then a lower bound and the query wants refining. */
  totalExact: boolean;
}

/**
 * At most this many matches are counted and ranked per search, so a broad
 * query ("Oleg" among a million contacts, or none at all) costs about what
 * it costs on a small directory, and no request can make the database read
 * every contact. Past it, the answer says the count is not exact.
 */
export const MATCH_CAP = 1000;

export interface DirectoryAccount {
  id: string;
  email: string | null;
  /** Effective status: an active account inside a lockout period reads as locked. */
  status: AccountStatus;
  /** As stored: a temporary lockout leaves it active (and login on behalf allowed). */
  storedStatus: AccountStatus;
  lockedUntil: Date | null;
  storeId: string | null;
  store: { slug: string; name: string } | null;
  roles: string[];
}

export interface ContactDetail extends Omit<ContactSummary, 'stores'> {
  accounts: DirectoryAccount[];
}

/**
 * The statement for a search (exported for the EXPLAIN tests): the first
 * MATCH_CAP + 1 matches become candidates — for a text query in whatever order
 * the GIN index yields them, ranked afterwards; without one in name order
 * through the name index — then one page of them, with the candidates' count
 * on every row (and on a row of its own when the page is empty).
 */
export function searchSql(search: ContactSearch, matchCap = MATCH_CAP): { sql: string; values: unknown[] } {
  const values: unknown[] = [];
  const param = (value: unknown) => `$${values.push(value)}`;
  const conditions: string[] = [];
  let rank = '';
  let candidateOrder = 'ORDER BY lower(c.display_name), c.id';
  let pageOrder = 'lower(m.name), m.id';
  if (search.tsquery) {
    const query = param(search.tsquery);
    conditions.push(`c.search @@ ${query}::tsquery`);
    rank = `, ts_rank(c.search, ${query}::tsquery) AS rank`;
    candidateOrder = '';
    pageOrder = `m.rank DESC, ${pageOrder}`;
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
  const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
  // Pages end at the cap: the one extra match fetched only tells that there are more.
  const offset = (search.page - 1) * search.limit;
  const sql = `WITH matches AS (
      SELECT c.id, c.display_name AS name, c.emails, c.phones${rank} FROM contact c ${where} ${candidateOrder} LIMIT ${matchCap + 1}
    ), counted AS (SELECT count(*)::int AS total FROM matches)
    SELECT counted.total, page.id, page.name, page.emails, page.phones,
           ARRAY(SELECT DISTINCT s.slug FROM account a JOIN store s ON s.id = a.store_id WHERE a.contact_id = page.id ORDER BY s.slug) AS stores
      FROM counted LEFT JOIN LATERAL (
        SELECT m.* FROM matches m ORDER BY ${pageOrder} LIMIT ${param(Math.max(0, Math.min(search.limit, matchCap - offset)))} OFFSET ${param(offset)}
      ) page ON true`;
  return { sql, values };
}

type NameColumn = 'first_name' | 'last_name';

/**
 * The statement for a one-word search without filters (exported for the
 * EXPLAIN tests). A common name ("Oleg" among a million contacts) matches
 * thousands, and the GIN index must collect every one before the cap applies
 * (about 5 ms); the first- and last-name prefix indexes (migration 7) yield
 * the first MATCH_CAP + 1 names starting with the word in name order and
 * stop, reading the index alone (under 1 ms). So, in one round trip:
 * - when more than MATCH_CAP first names (else last names) start with the
 *   word, the answer is "more than MATCH_CAP" and a page of those, in name
 *   order. They are all matches of the full-text query too: a name that
 *   starts with a word of letters begins a lexeme that starts with it;
 * - otherwise the full-text search as in searchSql, with its exact count and
 *   ranking; the GIN scan runs only then (a one-time filter on `path`).
 */
export function namePrefixSql(
  search: ContactSearch & { namePrefix: string; tsquery: string },
  matchCap = MATCH_CAP,
): { sql: string; values: unknown[] } {
  const offset = (search.page - 1) * search.limit;
  const limit = Math.max(0, Math.min(search.limit, matchCap - offset));
  // A prefix as a range of the index (C collation: code point order), with parameters rather than
  // LIKE so that a generic (prepared) plan still uses the index; it leaves out only names continuing
  // with U+10FFFF, which the full-text path then finds.
  const values: unknown[] = [search.namePrefix, `${search.namePrefix}\u{10FFFF}`, search.tsquery, limit, offset];
  const key = (column: NameColumn) => `lower(c.${column}) COLLATE "C"`;
  const starting = (column: NameColumn) => `${key(column)} >= $1 AND ${key(column)} < $2`;
  // Counting stops at the cap, and a page is read in index order: no sort, no table rows but the page's.
  const count = (column: NameColumn) =>
    `SELECT count(*) AS n FROM (SELECT 1 FROM contact c WHERE ${starting(column)} LIMIT ${matchCap + 1}) x`;
  const page = (column: NameColumn, which: number) => `
        SELECT row_number() OVER (ORDER BY p.key, p.name_key, p.id), c.id, c.display_name AS name, c.emails, c.phones
          FROM (SELECT c.id, ${key(column)} AS key, lower(c.display_name) AS name_key FROM contact c
                 WHERE (SELECT which FROM path) = ${which} AND ${starting(column)} ORDER BY 2, 3, 1 LIMIT $4 OFFSET $5) p
          JOIN contact c ON c.id = p.id`;
  const sql = `WITH first_names AS (${count('first_name')}),
      last_names AS (${count('last_name')}),
      -- 1: more than the cap by first name, 2: by last name, 0: the full-text search answers.
      -- CASE evaluates in order: the last names are counted only when the first names do not answer.
      path AS (SELECT CASE WHEN (SELECT n FROM first_names) > ${matchCap} THEN 1 WHEN (SELECT n FROM last_names) > ${matchCap} THEN 2 ELSE 0 END AS which),
      matches AS (
        SELECT c.id, c.display_name AS name, c.emails, c.phones, ts_rank(c.search, $3::tsquery) AS rank
          FROM contact c WHERE (SELECT which FROM path) = 0 AND c.search @@ $3::tsquery LIMIT ${matchCap + 1}
      ),
      counted AS (SELECT (CASE WHEN (SELECT which FROM path) = 0 THEN (SELECT count(*) FROM matches) ELSE ${matchCap + 1} END)::int AS total)
    SELECT counted.total, page.id, page.name, page.emails, page.phones,
           ARRAY(SELECT DISTINCT s.slug FROM account a JOIN store s ON s.id = a.store_id WHERE a.contact_id = page.id ORDER BY s.slug) AS stores
      FROM counted LEFT JOIN LATERAL (${page('first_name', 1)}
        UNION ALL${page('last_name', 2)}
        UNION ALL
        SELECT row_number() OVER (ORDER BY m.rank DESC, lower(m.name), m.id), m.id, m.name, m.emails, m.phones
          FROM (SELECT * FROM matches ORDER BY rank DESC, lower(name), id LIMIT $4 OFFSET $5) m
        ORDER BY 1
      ) page ON true`;
  return { sql, values };
}

const EFFECTIVE_STATUS = `CASE WHEN a.status = 'active' AND a.locked_until > now() THEN 'locked' ELSE a.status END`;

export class DirectoryQuery {
  constructor(
    private readonly dataSource: DataSource,
    /** MATCH_CAP unless a test needs a small one. */
    private readonly matchCap = MATCH_CAP,
  ) {}

  async search(search: ContactSearch): Promise<ContactPage> {
    if (search.tsquery === null) return { contacts: [], total: 0, totalExact: true };
    const { sql, values } =
      search.namePrefix && search.tsquery && !search.store && !search.status
        ? namePrefixSql({ ...search, namePrefix: search.namePrefix, tsquery: search.tsquery }, this.matchCap)
        : searchSql(search, this.matchCap);
    // Planned once per connection: re-planning the one-word statement on every call cost as much as
    // running it, and planning was a sixth of the full-text statement's time at a million contacts.
    const rows = await genericPlanQuery<Partial<ContactSummary> & { total: number }>(this.dataSource, sql, values);
    const counted = rows[0]?.total ?? 0;
    return {
      contacts: rows
        .filter((row) => row.id)
        .map(({ id, name, emails, phones, stores }) => ({ id: id!, name: name!, emails: emails!, phones: phones!, stores: stores! })),
      total: Math.min(counted, this.matchCap),
      totalExact: counted <= this.matchCap,
    };
  }

  async stores(): Promise<{ slug: string; name: string }[]> {
    return (await this.dataSource.query(`SELECT slug, name FROM store ORDER BY name, slug`)) as { slug: string; name: string }[];
  }

  async contact(id: string): Promise<ContactDetail | undefined> {
    const [contact] = (await this.dataSource.query(`SELECT id, display_name AS name, emails, phones FROM contact WHERE id = $1`, [
      id,
    ])) as Omit<ContactDetail, 'accounts'>[];
    if (!contact) return undefined;
    const rows = (await this.dataSource.query(
      `SELECT a.id, a.email, ${EFFECTIVE_STATUS} AS status, a.status AS stored_status, a.locked_until, a.store_id, s.slug, s.name,
              ARRAY(SELECT r.role FROM account_role r WHERE r.account_id = a.id ORDER BY r.role) AS roles
         FROM account a LEFT JOIN store s ON s.id = a.store_id
        WHERE a.contact_id = $1
        ORDER BY s.name NULLS LAST, a.username, a.id`,
      [id],
    )) as {
      id: string;
      email: string | null;
      status: AccountStatus;
      stored_status: AccountStatus;
      locked_until: Date | null;
      store_id: string | null;
      slug: string | null;
      name: string | null;
      roles: string[];
    }[];
    return {
      ...contact,
      accounts: rows.map((row) => ({
        id: row.id,
        email: row.email,
        status: row.status,
        storedStatus: row.stored_status,
        lockedUntil: row.locked_until,
        storeId: row.store_id,
        store: row.slug ? { slug: row.slug, name: row.name! } : null,
        roles: row.roles,
      })),
    };
  }
}
