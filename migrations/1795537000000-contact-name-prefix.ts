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
 */
export class ContactNamePrefix1795537000000 implements MigrationInterface {
  name = 'ContactNamePrefix1795537000000';

  async up(q: QueryRunner): Promise<void> {
    for (const column of ['first_name', 'last_name']) {
      await q.query(`CREATE INDEX contact_${column}_prefix_idx ON contact ((lower(${column}) COLLATE "C"), lower(display_name), id) INCLUDE (${column}, display_name)`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const column of ['first_name', 'last_name']) await q.query(`DROP INDEX contact_${column}_prefix_idx`);
  }
}
