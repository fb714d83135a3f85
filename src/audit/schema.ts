/**
 * DDL for an audit trail: the chained event table, its checkpoints, the
 * append function and the triggers that make both tables append-only. The
 * table name is a parameter so every resource server can keep its own chain
 * with the same guarantees (`resource_audit_event`, …).
 *
 * Concurrency (why this does not serialise Behalf behind a long lock):
 * `<table>_append()` takes a transaction-scoped advisory lock, reads the head
 * (one index probe on the primary key), inserts the next row and returns. The
 * lock is held from that statement until the caller's COMMIT, so callers
 * append as the LAST statement of their transaction (see `AuditWriter`): the
 * critical section is one INSERT plus the commit's WAL flush, not the
 * caller's business logic. Sequence numbers are therefore contiguous and in
 * commit order, which is what lets the verifier name a deleted row exactly.
 *
 * This is the library for NEW chains. A migration should not call it but
 * carry its output as literal SQL (as Behalf's 1795531940838 and the orders
 * API's 1795540000001 do): a migration's effect must not change when this
 * file does.
 */

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,40}$/;

export function assertAuditTableName(table: string): string {
  if (!IDENTIFIER.test(table)) throw new Error(`invalid audit table name ${table}`);
  return table;
}

export function auditSchemaUp(table = 'audit_event'): string[] {
  const t = assertAuditTableName(table);
  return [
    `CREATE TABLE ${t} (
      seq bigint PRIMARY KEY CHECK (seq > 0),
      id uuid NOT NULL UNIQUE,
      occurred_at timestamptz NOT NULL,
      type varchar(100) NOT NULL,
      actor varchar(300),
      subject varchar(300),
      client_id varchar(200),
      session_id varchar(300),
      ip varchar(64),
      user_agent varchar(1000),
      details jsonb NOT NULL DEFAULT '{}',
      content_hash char(64) NOT NULL,
      prev_hash char(64) NOT NULL,
      hash char(64) NOT NULL
    )`,
    `CREATE INDEX ${t}_actor_idx ON ${t} (actor, seq) WHERE actor IS NOT NULL`,
    `CREATE INDEX ${t}_subject_idx ON ${t} (subject, seq) WHERE subject IS NOT NULL`,
    `CREATE INDEX ${t}_session_idx ON ${t} (session_id, seq) WHERE session_id IS NOT NULL`,
    `CREATE INDEX ${t}_client_idx ON ${t} (client_id, seq) WHERE client_id IS NOT NULL`,
    // Pattern ops: serves `type LIKE 'auth.%'` under any collation, and equality in seq order.
    `CREATE INDEX ${t}_type_prefix_idx ON ${t} (type varchar_pattern_ops, seq)`,
    `CREATE INDEX ${t}_time_idx ON ${t} (occurred_at)`,
    `CREATE TABLE ${t}_checkpoint (
      id bigserial PRIMARY KEY,
      seq bigint NOT NULL,
      hash char(64) NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      jws text NOT NULL
    )`,
    `CREATE INDEX ${t}_checkpoint_seq_idx ON ${t}_checkpoint (seq)`,
    `CREATE FUNCTION ${t}_append(
        p_id uuid, p_occurred_at timestamptz, p_type text, p_actor text, p_subject text, p_client_id text,
        p_session_id text, p_ip text, p_user_agent text, p_details jsonb, p_content_hash text)
      RETURNS TABLE (seq bigint, hash text) LANGUAGE plpgsql AS $$
      DECLARE
        head_seq bigint;
        head_hash text;
        next_hash text;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('${t}'));
        SELECT e.seq, e.hash INTO head_seq, head_hash FROM ${t} e ORDER BY e.seq DESC LIMIT 1;
        head_seq := coalesce(head_seq, 0);
        head_hash := coalesce(head_hash, repeat('0', 64));
        next_hash := encode(sha256(convert_to(head_hash || ':' || (head_seq + 1)::text || ':' || p_content_hash, 'UTF8')), 'hex');
        INSERT INTO ${t} (seq, id, occurred_at, type, actor, subject, client_id, session_id, ip, user_agent, details, content_hash, prev_hash, hash)
        VALUES (head_seq + 1, p_id, p_occurred_at, p_type, p_actor, p_subject, p_client_id, p_session_id, p_ip, p_user_agent, p_details, p_content_hash, head_hash, next_hash);
        RETURN QUERY SELECT head_seq + 1, next_hash;
      END $$`,
    `CREATE FUNCTION ${t}_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END $$`,
    `CREATE TRIGGER ${t}_no_update_delete BEFORE UPDATE OR DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION ${t}_refuse_change()`,
    `CREATE TRIGGER ${t}_no_truncate BEFORE TRUNCATE ON ${t} FOR EACH STATEMENT EXECUTE FUNCTION ${t}_refuse_change()`,
    `CREATE TRIGGER ${t}_checkpoint_no_update_delete BEFORE UPDATE OR DELETE ON ${t}_checkpoint FOR EACH ROW EXECUTE FUNCTION ${t}_refuse_change()`,
    `CREATE TRIGGER ${t}_checkpoint_no_truncate BEFORE TRUNCATE ON ${t}_checkpoint FOR EACH STATEMENT EXECUTE FUNCTION ${t}_refuse_change()`,
  ];
}

export function auditSchemaDown(table = 'audit_event'): string[] {
  const t = assertAuditTableName(table);
  return [
    `DROP TABLE IF EXISTS ${t}_checkpoint`,
    `DROP TABLE IF EXISTS ${t}`,
    `DROP FUNCTION IF EXISTS ${t}_append(uuid, timestamptz, text, text, text, text, text, text, text, jsonb, text)`,
    `DROP FUNCTION IF EXISTS ${t}_refuse_change()`,
  ];
}
