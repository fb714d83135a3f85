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

/** A new audit trail: the table, then the Merkle log over it (see `auditLogSchemaUp`), then its paging indexes. */
export function auditSchemaUp(table = 'audit_event'): string[] {
  return [...chainSchemaUp(table), ...auditLogSchemaUp(table), ...auditPagingIndexesUp(table)];
}

/**
 * The indexes `AuditRepository.query` pages through (log events by queue id,
 * then chained ones by seq; what Behalf's migration 1795545000000 builds),
 * replacing the (column, seq) ones of the chain.
 */
export function auditPagingIndexesUp(table = 'audit_event'): string[] {
  const t = assertAuditTableName(table);
  const filters: [string, string, string][] = [
    ['actor', 'actor', ' AND actor IS NOT NULL'],
    ['subject', 'subject', ' AND subject IS NOT NULL'],
    ['session', 'session_id', ' AND session_id IS NOT NULL'],
    ['client', 'client_id', ' AND client_id IS NOT NULL'],
    ['type', 'type varchar_pattern_ops', ''],
  ];
  return [
    `CREATE INDEX ${t}_chained_seq_idx ON ${t} (seq) WHERE qid IS NULL`,
    ...filters.flatMap(([name, column, where]) => [
      `CREATE INDEX ${t}_${name}_qid_idx ON ${t} (${column}, qid) WHERE qid IS NOT NULL${where}`,
      `CREATE INDEX ${t}_${name}_chained_idx ON ${t} (${column}, seq) WHERE qid IS NULL${where}`,
    ]),
    ...['actor', 'subject', 'session', 'client', 'type_prefix'].map((name) => `DROP INDEX ${t}_${name}_idx`),
  ];
}

function chainSchemaUp(table: string): string[] {
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

/**
 * The Merkle log on top of a chained table (RFC 9162 model, README "Audit log"):
 *
 * - `<t>_enqueue()` inserts the event with `seq` NULL and a queue id (`qid`,
 *   from a sequence) and takes no lock: appends from every instance run in
 *   parallel, in the caller's transaction (fail-closed as before).
 * - `<t>_sequence(qids, leaf_hashes)`, called by the one elected sequencer,
 *   gives a batch of pending rows their `seq` (contiguous, after the head) and
 *   leaf hash. The update trigger allows exactly that change, once per row;
 *   DELETE and TRUNCATE stay refused.
 * - `<t>_node` keeps every perfect subtree hash (level ≥ 1) for O(log n)
 *   proofs; `<t>_tree` how many leaves those nodes cover; `<t>_tree_head`
 *   the signed tree heads.
 * - Rows chained before (qid NULL) keep their prev_hash/hash and verify by the
 *   chain rules; the tree covers them too, each as a leaf naming its chain hash.
 *
 * Both functions are SECURITY DEFINER with a pinned search_path, so a runtime
 * role that may only EXECUTE them can append and sequence but never change or
 * remove a row.
 */
export function auditLogSchemaUp(table = 'audit_event'): string[] {
  const t = assertAuditTableName(table);
  const columns =
    'p_id, p_occurred_at, p_type, p_actor, p_subject, p_client_id, p_session_id, p_ip, p_user_agent, p_details, p_content_hash';
  const parameters = `p_id uuid, p_occurred_at timestamptz, p_type text, p_actor text, p_subject text, p_client_id text,
        p_session_id text, p_ip text, p_user_agent text, p_details jsonb, p_content_hash text`;
  const definer = (signature: string) => `DO $do$ BEGIN
      EXECUTE format('ALTER FUNCTION ${signature} SECURITY DEFINER SET search_path = %I, pg_temp', current_schema());
    END $do$`;
  return [
    `CREATE SEQUENCE ${t}_qid_seq`,
    `ALTER TABLE ${t} ADD COLUMN qid bigint, ADD COLUMN leaf_hash char(64), ADD COLUMN queued_at timestamptz, ADD COLUMN sequenced_at timestamptz`,
    // seq is assigned later now: a unique index instead of the primary key (id, unique already, identifies rows).
    `CREATE UNIQUE INDEX ${t}_seq_key ON ${t} (seq)`,
    `ALTER TABLE ${t} DROP CONSTRAINT ${t}_pkey`,
    `ALTER TABLE ${t} REPLICA IDENTITY USING INDEX ${t}_id_key`,
    `ALTER TABLE ${t} ALTER COLUMN seq DROP NOT NULL, ALTER COLUMN prev_hash DROP NOT NULL, ALTER COLUMN hash DROP NOT NULL`,
    `CREATE UNIQUE INDEX ${t}_qid_key ON ${t} (qid)`,
    `CREATE INDEX ${t}_pending_idx ON ${t} (qid) WHERE seq IS NULL`,
    // Either a chained row from before, or a log row (pending, or sequenced with its leaf hash).
    `ALTER TABLE ${t} ADD CONSTRAINT ${t}_row_kind CHECK (
        (qid IS NULL AND seq IS NOT NULL AND prev_hash IS NOT NULL AND hash IS NOT NULL AND leaf_hash IS NULL)
        OR (qid IS NOT NULL AND prev_hash IS NULL AND hash IS NULL AND (seq IS NULL) = (leaf_hash IS NULL))) NOT VALID`,
    `CREATE FUNCTION ${t}_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        expected ${t};
      BEGIN
        expected := OLD;
        expected.seq := NEW.seq;
        expected.leaf_hash := NEW.leaf_hash;
        expected.sequenced_at := NEW.sequenced_at;
        IF OLD.seq IS NOT NULL OR NEW.seq IS NULL OR NEW.leaf_hash IS NULL OR NEW IS DISTINCT FROM expected THEN
          RAISE EXCEPTION 'the audit trail is append-only: only sequencing a pending event may update %', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$`,
    `DROP TRIGGER ${t}_no_update_delete ON ${t}`,
    `CREATE TRIGGER ${t}_no_delete BEFORE DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION ${t}_refuse_change()`,
    `CREATE TRIGGER ${t}_sequence_only BEFORE UPDATE ON ${t} FOR EACH ROW EXECUTE FUNCTION ${t}_guard_update()`,
    `CREATE FUNCTION ${t}_enqueue(${parameters}) RETURNS bigint LANGUAGE sql AS $$
        INSERT INTO ${t} (qid, queued_at, id, occurred_at, type, actor, subject, client_id, session_id, ip, user_agent, details, content_hash)
        VALUES (nextval('${t}_qid_seq'), clock_timestamp(), ${columns})
        RETURNING qid
      $$`,
    definer(`${t}_enqueue(uuid, timestamptz, text, text, text, text, text, text, text, jsonb, text)`),
    // The chained append, kept for instances still running the previous version: it now enqueues.
    `CREATE OR REPLACE FUNCTION ${t}_append(${parameters})
      RETURNS TABLE (seq bigint, hash text) LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM ${t}_enqueue(${columns});
        RETURN QUERY SELECT NULL::bigint, NULL::text;
      END $$`,
    definer(`${t}_append(uuid, timestamptz, text, text, text, text, text, text, text, jsonb, text)`),
    `CREATE FUNCTION ${t}_sequence(p_qids bigint[], p_leaf_hashes text[]) RETURNS bigint LANGUAGE plpgsql AS $$
      DECLARE
        head bigint;
        moved bigint;
      BEGIN
        IF cardinality(p_qids) IS DISTINCT FROM cardinality(p_leaf_hashes) THEN
          RAISE EXCEPTION 'audit sequencing: % queue ids but % leaf hashes', cardinality(p_qids), cardinality(p_leaf_hashes);
        END IF;
        PERFORM pg_advisory_xact_lock(hashtext('${t}_sequence'));
        SELECT coalesce(max(e.seq), 0) INTO head FROM ${t} e;
        UPDATE ${t} e SET seq = head + u.ord, leaf_hash = u.leaf, sequenced_at = clock_timestamp()
          FROM unnest(p_qids, p_leaf_hashes) WITH ORDINALITY AS u(qid, leaf, ord)
         WHERE e.qid = u.qid AND e.seq IS NULL;
        GET DIAGNOSTICS moved = ROW_COUNT;
        IF moved <> coalesce(cardinality(p_qids), 0) THEN
          RAISE EXCEPTION 'audit sequencing: only % of % queued events are pending', moved, cardinality(p_qids);
        END IF;
        RETURN head + moved;
      END $$`,
    definer(`${t}_sequence(bigint[], text[])`),
    `CREATE TABLE ${t}_node (
      level smallint NOT NULL CHECK (level > 0),
      idx bigint NOT NULL CHECK (idx >= 0),
      hash char(64) NOT NULL,
      PRIMARY KEY (level, idx)
    )`,
    `CREATE TABLE ${t}_tree (id smallint PRIMARY KEY CHECK (id = 1), size bigint NOT NULL CHECK (size >= 0))`,
    `INSERT INTO ${t}_tree (id, size) VALUES (1, 0)`,
    `CREATE TABLE ${t}_tree_head (
      id bigserial PRIMARY KEY,
      tree_size bigint NOT NULL CHECK (tree_size > 0),
      root_hash char(64) NOT NULL,
      created_at timestamptz NOT NULL,
      jws text NOT NULL
    )`,
    `CREATE INDEX ${t}_tree_head_size_idx ON ${t}_tree_head (tree_size)`,
    `CREATE TRIGGER ${t}_node_no_update_delete BEFORE UPDATE OR DELETE ON ${t}_node FOR EACH ROW EXECUTE FUNCTION ${t}_refuse_change()`,
    `CREATE TRIGGER ${t}_node_no_truncate BEFORE TRUNCATE ON ${t}_node FOR EACH STATEMENT EXECUTE FUNCTION ${t}_refuse_change()`,
    `CREATE TRIGGER ${t}_tree_head_no_update_delete BEFORE UPDATE OR DELETE ON ${t}_tree_head FOR EACH ROW EXECUTE FUNCTION ${t}_refuse_change()`,
    `CREATE TRIGGER ${t}_tree_head_no_truncate BEFORE TRUNCATE ON ${t}_tree_head FOR EACH STATEMENT EXECUTE FUNCTION ${t}_refuse_change()`,
  ];
}

export function auditSchemaDown(table = 'audit_event'): string[] {
  const t = assertAuditTableName(table);
  return [
    `DROP TABLE IF EXISTS ${t}_tree_head`,
    `DROP TABLE IF EXISTS ${t}_tree`,
    `DROP TABLE IF EXISTS ${t}_node`,
    `DROP FUNCTION IF EXISTS ${t}_sequence(bigint[], text[])`,
    `DROP FUNCTION IF EXISTS ${t}_enqueue(uuid, timestamptz, text, text, text, text, text, text, text, jsonb, text)`,
    `DROP TABLE IF EXISTS ${t}_checkpoint`,
    `DROP TABLE IF EXISTS ${t}`,
    `DROP FUNCTION IF EXISTS ${t}_append(uuid, timestamptz, text, text, text, text, text, text, text, jsonb, text)`,
    `DROP FUNCTION IF EXISTS ${t}_refuse_change()`,
    `DROP FUNCTION IF EXISTS ${t}_guard_update()`,
    `DROP SEQUENCE IF EXISTS ${t}_qid_seq`,
  ];
}
