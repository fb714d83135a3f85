/**
 * People as admins look for them: staff and customers found by name, email,
 * phone or id, each shown with store, roles, status and (for staff) the
 * stores they may act in. Also turns what an admin typed into a filter
 * (an id, an email or a name) into the accounts it means, refusing unknown
 * and ambiguous references with a sentence instead of an empty result.
 */
import type { DataSource } from 'typeorm';
import { isUuid } from '../../common/uuid.js';
import type { RoleName } from '../../accounts/entities/index.js';

export interface PersonSummary {
  id: string;
  name: string;
  email: string | null;
  username: string;
  kind: 'staff' | 'customer';
  store: { id: string; slug: string; name: string } | null;
  roles: RoleName[];
  /** `locked` while a lockout lasts, else the stored status. */
  status: 'active' | 'locked' | 'disabled';
  locked_until: string | null;
  phones: string[];
}

export interface PersonDetails extends PersonSummary {
  second_factor: boolean;
  failed_sign_ins: number;
  last_sign_in: string | null;
  created_at: string;
  permissions: { permission: string; store: { id: string; slug: string; name: string } | null; granted_at: string }[];
  active_sessions: number;
}

/** A filter that names nobody, or several people: the caller answers 400 with this message. */
export class PersonReferenceError extends Error {
  override name = 'PersonReferenceError';
}

interface PersonRow {
  id: string;
  display_name: string;
  email: string | null;
  username: string;
  status: 'active' | 'locked' | 'disabled';
  locked_until: Date | null;
  store_id: string | null;
  slug: string | null;
  store_name: string | null;
  contact_id: string | null;
  roles: RoleName[];
  phones: string[] | null;
}

const SELECT = `SELECT a.id, a.display_name, a.email, a.username, a.status, a.locked_until, a.store_id, a.contact_id,
       s.slug, s.name AS store_name, c.phones,
       COALESCE((SELECT array_agg(r.role ORDER BY r.role) FROM account_role r WHERE r.account_id = a.id), '{}') AS roles
  FROM account a LEFT JOIN store s ON s.id = a.store_id LEFT JOIN contact c ON c.id = a.contact_id`;

function summary(row: PersonRow, now: Date): PersonSummary {
  const locked = row.status === 'active' && row.locked_until !== null && row.locked_until > now;
  return {
    id: row.id,
    name: row.display_name,
    email: row.email,
    username: row.username,
    kind: row.store_id ? 'customer' : 'staff',
    store: row.store_id ? { id: row.store_id, slug: row.slug!, name: row.store_name ?? row.slug! } : null,
    roles: row.roles,
    status: locked ? 'locked' : row.status,
    locked_until: locked ? row.locked_until!.toISOString() : null,
    phones: row.phones ?? [],
  };
}

/** `%`, `_` and `\` typed by an admin are literal characters, not patterns. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}

export const MAX_PEOPLE = 100;

export class PeopleDirectory {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Staff first, then customers by name. `q` matches an id exactly, else any
   * part of a name, email, sign-in name or phone (digits compared alone, so
   * "555 0100" finds "+1 555 0100").
   */
  async search(filter: { q?: string; kind?: 'staff' | 'customer'; limit?: number }, now = new Date()): Promise<PersonSummary[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const q = filter.q?.trim();
    if (q && isUuid(q)) where.push(`a.id = $${params.push(q)}`);
    else if (q) {
      const p = `$${params.push(likePattern(q))}`;
      const digits = q.replace(/\D/g, '');
      const phone =
        digits.length >= 3
          ? ` OR EXISTS (SELECT 1 FROM unnest(c.phones) ph WHERE regexp_replace(ph, '\\D', '', 'g') LIKE $${params.push(`%${digits}%`)})`
          : '';
      where.push(`(a.display_name ILIKE ${p} OR a.email ILIKE ${p} OR a.username ILIKE ${p}${phone})`);
    }
    if (filter.kind === 'staff') where.push('a.store_id IS NULL');
    if (filter.kind === 'customer') where.push('a.store_id IS NOT NULL');
    params.push(Math.min(Math.max(filter.limit ?? 50, 1), MAX_PEOPLE));
    const rows = (await this.dataSource.query(
      `${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY (a.store_id IS NOT NULL), a.display_name, s.name NULLS FIRST LIMIT $${params.length}`,
      params,
    )) as PersonRow[];
    return rows.map((row) => summary(row, now));
  }

  async summaries(ids: readonly string[], now = new Date()): Promise<Map<string, PersonSummary>> {
    const wanted = [...new Set(ids.filter((id) => isUuid(id)))];
    if (!wanted.length) return new Map();
    const rows = (await this.dataSource.query(`${SELECT} WHERE a.id = ANY($1::uuid[])`, [wanted])) as PersonRow[];
    return new Map(rows.map((row) => [row.id, summary(row, now)]));
  }

  async details(id: string, now = new Date()): Promise<PersonDetails | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = (await this.dataSource.query(
      `SELECT q.*, x.totp, x.failed_login_count, x.last_login_at, x.created_at FROM (${SELECT} WHERE a.id = $1) q
         JOIN (SELECT id, totp_secret_encrypted IS NOT NULL AS totp, failed_login_count, last_login_at, created_at FROM account) x ON x.id = q.id`,
      [id],
    )) as (PersonRow & { totp: boolean; failed_login_count: number; last_login_at: Date | null; created_at: Date })[];
    if (!row) return undefined;
    const permissions = (await this.dataSource.query(
      `SELECT p.permission, p.store_id, p.granted_at, s.slug, s.name FROM permission_grant p LEFT JOIN store s ON s.id = p.store_id
        WHERE p.account_id = $1 ORDER BY p.permission, s.name NULLS FIRST`,
      [id],
    )) as { permission: string; store_id: string | null; granted_at: Date; slug: string | null; name: string | null }[];
    const [{ n }] = (await this.dataSource.query(
      `SELECT count(*)::int AS n FROM on_behalf_session
        WHERE (agent_account_id = $1 OR customer_account_id = $1) AND ended_at IS NULL AND expires_at > $2`,
      [id, now],
    )) as [{ n: number }];
    return {
      ...summary(row, now),
      second_factor: row.totp,
      failed_sign_ins: row.failed_login_count,
      last_sign_in: row.last_login_at?.toISOString() ?? null,
      created_at: row.created_at.toISOString(),
      permissions: permissions.map((grant) => ({
        permission: grant.permission,
        store: grant.store_id ? { id: grant.store_id, slug: grant.slug!, name: grant.name ?? grant.slug! } : null,
        granted_at: grant.granted_at.toISOString(),
      })),
      active_sessions: n,
    };
  }

  /**
   * The accounts a filter means: an account id; an email (every account with
   * it: one person may have an account per store); or a name (exact, else a
   * part of one) that must name one person. Unknown or ambiguous: a
   * PersonReferenceError whose message says so and how to be precise.
   */
  async resolve(reference: string, label: string): Promise<{ ids: string[]; people: PersonSummary[] }> {
    const text = reference.trim();
    if (!text) throw new PersonReferenceError(`${label} is empty`);
    if (text.length > 320 || text.includes('\u0000')) throw new PersonReferenceError(`${label} is not a name, an email or an account id`);
    let rows: PersonRow[];
    const byId: boolean = isUuid(text);
    if (byId) rows = (await this.dataSource.query(`${SELECT} WHERE a.id = $1`, [text])) as PersonRow[];
    else if (text.includes('@'))
      rows = (await this.dataSource.query(`${SELECT} WHERE lower(a.email) = lower($1) OR a.username = lower($1)`, [text])) as PersonRow[];
    else {
      rows = (await this.dataSource.query(`${SELECT} WHERE lower(a.display_name) = lower($1) LIMIT 20`, [text])) as PersonRow[];
      if (!rows.length)
        rows = (await this.dataSource.query(`${SELECT} WHERE a.display_name ILIKE $1 ORDER BY a.display_name LIMIT 20`, [
          likePattern(text),
        ])) as PersonRow[];
    }
    if (!rows.length) throw new PersonReferenceError(`${label}: no one is called or has the email “${text}”`);
    const now = new Date();
    const people = rows.map((row) => summary(row, now));
    // One person: the same contact, or (staff and unlinked accounts) the same email.
    const personKey = (row: PersonRow) => row.contact_id ?? (row.email ? `email:${row.email.toLowerCase()}` : row.id);
    const persons = new Map<string, PersonSummary>();
    for (const [index, row] of rows.entries()) if (!persons.has(personKey(row))) persons.set(personKey(row), people[index]!);
    if (persons.size > 1) {
      const named = [...persons.values()]
        .slice(0, 5)
        .map((person) => `${person.name} (${person.email ?? person.username})`)
        .join(', ');
      throw new PersonReferenceError(
        `${label}: “${text}” could be ${persons.size > 5 ? `${persons.size} people, among them ` : ''}${named}; give an email or choose one`,
      );
    }
    return { ids: people.map((person) => person.id), people };
  }
}
