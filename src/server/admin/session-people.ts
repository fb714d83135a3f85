/**
 * Names for the account ids in on-behalf sessions: staff pages show who a
 * session was for ("Oleg Petrov, oleg@example.com, Electronics"), never a bare
 * id. One statement for a whole page of sessions.
 */
import type { DataSource } from 'typeorm';

export interface SessionPerson {
  id: string;
  name: string;
  email: string | null;
  store: { slug: string; name: string } | null;
}

interface PersonRow {
  id: string;
  display_name: string;
  email: string | null;
  slug: string | null;
  store_name: string | null;
}

/** The accounts named by `ids` (duplicates and unknown ids are fine), by id. */
export async function sessionPeople(dataSource: DataSource, ids: readonly string[]): Promise<Map<string, SessionPerson>> {
  const wanted = [...new Set(ids)];
  if (!wanted.length) return new Map();
  const rows = (await dataSource.query(
    `SELECT a.id, a.display_name, a.email, s.slug, s.name AS store_name
       FROM account a LEFT JOIN store s ON s.id = a.store_id
      WHERE a.id = ANY($1::uuid[])`,
    [wanted],
  )) as PersonRow[];
  return new Map(
    rows.map((row) => [
      row.id,
      {
        id: row.id,
        name: row.display_name,
        email: row.email,
        store: row.slug ? { slug: row.slug, name: row.store_name ?? row.slug } : null,
      },
    ]),
  );
}
