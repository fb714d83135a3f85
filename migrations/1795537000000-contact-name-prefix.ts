import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Name-prefix indexes for the directory's one-word searches. "Oleg" among a
 * million contacts matches about five thousand: the GIN index on
 * contact.search must gather every match before the count is capped (about
 * 5 ms a search), while these yield the first MATCH_CAP + 1 names starting
 * with the word in name order and stop (under 1 ms). C collation makes a
 * prefix a plain range of the index; the INCLUDEd columns let PostgreSQL
 * answer from the index alone (it does not match expressions to them
 * otherwise).
 *
 * Built CONCURRENTLY, outside a transaction (`transaction = false`, honoured
 * because migrations run in `each` mode), so contacts stay writable during
 * the build. A failed concurrent build leaves an INVALID index that IF NOT
 * EXISTS would keep: it is dropped and rebuilt on the next run.
 * Self-contained on purpose (frozen migration).
 */
export class ContactNamePrefix1795537000000 implements MigrationInterface {
  name = 'ContactNamePrefix1795537000000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    for (const column of ['first_name', 'last_name']) {
      await createIndexConcurrently(
        q,
        `contact_${column}_prefix_idx`,
        `contact ((lower(${column}) COLLATE "C"), lower(display_name), id) INCLUDE (${column}, display_name)`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const column of ['first_name', 'last_name']) await q.query(`DROP INDEX CONCURRENTLY IF EXISTS contact_${column}_prefix_idx`);
  }
}

async function createIndexConcurrently(q: QueryRunner, name: string, on: string): Promise<void> {
  const [invalid] = (await q.query(`SELECT 1 FROM pg_index WHERE indexrelid = to_regclass($1) AND NOT indisvalid`, [name])) as unknown[];
  if (invalid) await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
  await q.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON ${on}`);
}
