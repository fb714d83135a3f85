import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Audit queries page by a key that sequencing never changes (README "Audit
 * log", paging): log events by queue id, newest first, then the events
 * chained before the log by seq. Each filter gets the two indexes that serve
 * that order, (column, qid) over log events and (column, seq) over chained
 * ones, and the (column, seq) indexes they replace are dropped (nothing else
 * reads them; each costs every append an index entry). The chained-only
 * indexes are partial on `qid IS NULL`: no append ever touches them.
 *
 * Built CONCURRENTLY, outside a transaction (`transaction = false`; migrations
 * run in `each` mode), so appends go on during the build; a failed concurrent
 * build leaves an INVALID index that is dropped and rebuilt on the next run.
 * Self-contained on purpose (frozen migration; the orders API's
 * 1795545000001 carries its own copy).
 */
const T = 'audit_event';

const FILTERS: [name: string, column: string, where: string][] = [
  ['actor', 'actor', 'actor IS NOT NULL'],
  ['subject', 'subject', 'subject IS NOT NULL'],
  ['session', 'session_id', 'session_id IS NOT NULL'],
  ['client', 'client_id', 'client_id IS NOT NULL'],
  ['type', 'type varchar_pattern_ops', ''],
];

/** The (column, seq) indexes before this migration, to drop (up) and rebuild (down). */
const REPLACED: [name: string, definition: string][] = [
  [`${T}_actor_idx`, `${T} (actor, seq) WHERE actor IS NOT NULL`],
  [`${T}_subject_idx`, `${T} (subject, seq) WHERE subject IS NOT NULL`],
  [`${T}_session_idx`, `${T} (session_id, seq) WHERE session_id IS NOT NULL`],
  [`${T}_client_idx`, `${T} (client_id, seq) WHERE client_id IS NOT NULL`],
  [`${T}_type_prefix_idx`, `${T} (type varchar_pattern_ops, seq)`],
];

function created(): [name: string, definition: string][] {
  const and = (where: string) => (where ? ` AND ${where}` : '');
  return [
    [`${T}_chained_seq_idx`, `${T} (seq) WHERE qid IS NULL`],
    ...FILTERS.flatMap(([name, column, where]): [string, string][] => [
      [`${T}_${name}_qid_idx`, `${T} (${column}, qid) WHERE qid IS NOT NULL${and(where)}`],
      [`${T}_${name}_chained_idx`, `${T} (${column}, seq) WHERE qid IS NULL${and(where)}`],
    ]),
  ];
}

export class AuditPagingIndexes1795545000000 implements MigrationInterface {
  name = 'AuditPagingIndexes1795545000000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    for (const [name, definition] of created()) await createIndexConcurrently(q, name, definition);
    for (const [name] of REPLACED) await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [name, definition] of REPLACED) await createIndexConcurrently(q, name, definition);
    for (const [name] of created()) await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
  }
}

async function createIndexConcurrently(q: QueryRunner, name: string, on: string): Promise<void> {
  const [invalid] = (await q.query(`SELECT 1 FROM pg_index WHERE indexrelid = to_regclass($1) AND NOT indisvalid`, [name])) as unknown[];
  if (invalid) await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
  await q.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON ${on}`);
}
