import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The append function runs with its owner's rights, so a runtime role that
 * may neither INSERT into `audit_event` nor own it can still append (and only
 * append, through the chained path). Its search_path is fixed to the schema
 * the trail lives in, pg_temp last, so a caller cannot shadow the table with
 * one of its own. Only roles granted EXECUTE may call it (src/server/db/runtime-grants.ts).
 * Self-contained SQL: a migration must not change when the code does.
 */
const APPEND = 'audit_event_append(uuid, timestamptz, text, text, text, text, text, text, text, jsonb, text)';

export class RuntimeRole1795538000000 implements MigrationInterface {
  name = 'RuntimeRole1795538000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DO $$ BEGIN
      EXECUTE format('ALTER FUNCTION ${APPEND} SECURITY DEFINER SET search_path = %I, pg_temp', current_schema());
    END $$`);
    await q.query(`REVOKE EXECUTE ON FUNCTION ${APPEND} FROM PUBLIC`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`GRANT EXECUTE ON FUNCTION ${APPEND} TO PUBLIC`);
    await q.query(`ALTER FUNCTION ${APPEND} SECURITY INVOKER RESET search_path`);
  }
}
