/**
 * Every privilege Behalf's runtime role holds, in one place. The owner
 * applies them after each migration run (data-source.ts `migrate`), so tables
 * that later migrations add are covered without touching this file. Default
 * privileges are deliberately not used: a table created outside Behalf's
 * migrations stays closed to the runtime role until the next run looks at it.
 *
 * The statements are idempotent: GRANT of a held privilege and REVOKE of an
 * absent one are no-ops.
 */
import pg from 'pg';

const quote = (name: string) => pg.escapeIdentifier(name);

/** The append-only audit trail: appended through its function, read directly, never changed. */
export const AUDIT_TABLE = 'audit_event';
export const AUDIT_CHECKPOINT_TABLE = 'audit_event_checkpoint';
export const AUDIT_APPEND_FUNCTION = 'audit_event_append(uuid, timestamptz, text, text, text, text, text, text, text, jsonb, text)';
/** The Merkle log (1795543000000): appends enqueue, the sequencer sequences, both only through these functions. */
export const AUDIT_ENQUEUE_FUNCTION = 'audit_event_enqueue(uuid, timestamptz, text, text, text, text, text, text, text, jsonb, text)';
export const AUDIT_SEQUENCE_FUNCTION = 'audit_event_sequence(bigint[], text[])';
/** The tree's stored nodes and signed heads: added, never changed (triggers); its size: moved by the sequencer. */
const AUDIT_APPEND_ONLY_TABLES = ['audit_event_node', 'audit_event_tree_head'];
const AUDIT_TREE_TABLE = 'audit_event_tree';
/** TypeORM's ledger of applied migrations: the owner's business. */
const MIGRATIONS_TABLE = 'migrations';

export function runtimeGrantStatements(role: string, schema = 'public'): string[] {
  const r = quote(role);
  const s = quote(schema);
  const table = (name: string) => `${s}.${quote(name)}`;
  return [
    `GRANT USAGE ON SCHEMA ${s} TO ${r}`,
    // Every application table (accounts, oidc_payload, rate_limit, on_behalf_*, totp_*, …): plain DML.
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${r}`,
    `GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${s} TO ${r}`,
    // …then the exceptions, narrowed back whatever the line above granted.
    `REVOKE ALL ON TABLE ${table(MIGRATIONS_TABLE)} FROM ${r}`,
    `GRANT SELECT ON TABLE ${table(MIGRATIONS_TABLE)} TO ${r}`,
    `REVOKE ALL ON TABLE ${table(AUDIT_TABLE)} FROM ${r}`,
    `GRANT SELECT ON TABLE ${table(AUDIT_TABLE)} TO ${r}`,
    `REVOKE ALL ON TABLE ${table(AUDIT_CHECKPOINT_TABLE)} FROM ${r}`,
    `GRANT SELECT, INSERT ON TABLE ${table(AUDIT_CHECKPOINT_TABLE)} TO ${r}`,
    `GRANT EXECUTE ON FUNCTION ${s}.${AUDIT_APPEND_FUNCTION} TO ${r}`,
    ...AUDIT_APPEND_ONLY_TABLES.flatMap((name) => [
      `REVOKE ALL ON TABLE ${table(name)} FROM ${r}`,
      `GRANT SELECT, INSERT ON TABLE ${table(name)} TO ${r}`,
    ]),
    `REVOKE ALL ON TABLE ${table(AUDIT_TREE_TABLE)} FROM ${r}`,
    `GRANT SELECT, UPDATE ON TABLE ${table(AUDIT_TREE_TABLE)} TO ${r}`,
    `GRANT EXECUTE ON FUNCTION ${s}.${AUDIT_ENQUEUE_FUNCTION} TO ${r}`,
    `GRANT EXECUTE ON FUNCTION ${s}.${AUDIT_SEQUENCE_FUNCTION} TO ${r}`,
  ];
}

interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/**
 * Grants `role` its runtime privileges on the current schema, as the owner
 * (`db`). Never for the owner itself: REVOKE would take the owner's own rights
 * away, which the append function (SECURITY DEFINER) needs.
 */
export async function applyRuntimeGrants(db: Queryable, role: string): Promise<void> {
  const [self] = (await db.query('SELECT current_user AS owner, current_schema() AS schema')) as { owner: string; schema: string }[];
  if (!self || self.owner === role) return;
  for (const statement of runtimeGrantStatements(role, self.schema)) await db.query(statement);
}
