import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The orders API's audit trail becomes the same Merkle log as Behalf's
 * (issue #18, README "Audit log"): appends enqueue without a lock, the orders
 * API's elected sequencer orders them. Events chained before stay as they are
 * and verify by the chain rules. Undo is refused once log rows exist.
 *
 * Frozen: literal SQL, a copy of Behalf's 1795543000000 for this table.
 */
function logUp(t: string): string[] {
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

const CHAINED_APPEND = `CREATE FUNCTION orders_audit_event_append(
        p_id uuid, p_occurred_at timestamptz, p_type text, p_actor text, p_subject text, p_client_id text,
        p_session_id text, p_ip text, p_user_agent text, p_details jsonb, p_content_hash text)
      RETURNS TABLE (seq bigint, hash text) LANGUAGE plpgsql AS $$
      DECLARE
        head_seq bigint;
        head_hash text;
        next_hash text;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('orders_audit_event'));
        SELECT e.seq, e.hash INTO head_seq, head_hash FROM orders_audit_event e ORDER BY e.seq DESC LIMIT 1;
        head_seq := coalesce(head_seq, 0);
        head_hash := coalesce(head_hash, repeat('0', 64));
        next_hash := encode(sha256(convert_to(head_hash || ':' || (head_seq + 1)::text || ':' || p_content_hash, 'UTF8')), 'hex');
        INSERT INTO orders_audit_event (seq, id, occurred_at, type, actor, subject, client_id, session_id, ip, user_agent, details, content_hash, prev_hash, hash)
        VALUES (head_seq + 1, p_id, p_occurred_at, p_type, p_actor, p_subject, p_client_id, p_session_id, p_ip, p_user_agent, p_details, p_content_hash, head_hash, next_hash);
        RETURN QUERY SELECT head_seq + 1, next_hash;
      END $$`;

export class OrdersAuditMerkleLog1795543000001 implements MigrationInterface {
  name = 'OrdersAuditMerkleLog1795543000001';

  async up(q: QueryRunner): Promise<void> {
    for (const statement of logUp('orders_audit_event')) await q.query(statement);
  }

  async down(q: QueryRunner): Promise<void> {
    const [row] = (await q.query(`SELECT 1 FROM orders_audit_event WHERE qid IS NOT NULL LIMIT 1`)) as unknown[];
    if (row) throw new Error('cannot undo the Merkle log: orders_audit_event holds events appended since (they have no chain hash)');
    for (const statement of [
      `DROP TABLE orders_audit_event_tree_head`,
      `DROP TABLE orders_audit_event_tree`,
      `DROP TABLE orders_audit_event_node`,
      `DROP FUNCTION orders_audit_event_sequence(bigint[], text[])`,
      `DROP TRIGGER orders_audit_event_sequence_only ON orders_audit_event`,
      `DROP TRIGGER orders_audit_event_no_delete ON orders_audit_event`,
      `DROP FUNCTION orders_audit_event_guard_update()`,
      `CREATE TRIGGER orders_audit_event_no_update_delete BEFORE UPDATE OR DELETE ON orders_audit_event FOR EACH ROW EXECUTE FUNCTION orders_audit_event_refuse_change()`,
      `ALTER TABLE orders_audit_event DROP CONSTRAINT orders_audit_event_row_kind`,
      `DROP INDEX orders_audit_event_pending_idx`,
      `DROP INDEX orders_audit_event_qid_key`,
      `ALTER TABLE orders_audit_event ALTER COLUMN seq SET NOT NULL, ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL`,
      `ALTER TABLE orders_audit_event REPLICA IDENTITY DEFAULT`,
      `ALTER TABLE orders_audit_event ADD CONSTRAINT orders_audit_event_pkey PRIMARY KEY USING INDEX orders_audit_event_seq_key`,
      `ALTER TABLE orders_audit_event DROP COLUMN qid, DROP COLUMN leaf_hash, DROP COLUMN queued_at, DROP COLUMN sequenced_at`,
    ])
      await q.query(statement);
    // The chained append as 1795540000001 made it.
    await q.query(`DROP FUNCTION orders_audit_event_append(uuid, timestamptz, text, text, text, text, text, text, text, jsonb, text)`);
    await q.query(`DROP FUNCTION orders_audit_event_enqueue(uuid, timestamptz, text, text, text, text, text, text, text, jsonb, text)`);
    await q.query(`DROP SEQUENCE orders_audit_event_qid_seq`);
    await q.query(CHAINED_APPEND);
  }
}
