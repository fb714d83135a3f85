import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The orders API's own chained audit trail (same guarantees as Behalf's, separate chain).
 *
 * Frozen: the literal DDL this migration ran when it was written (it used to
 * call src/audit/schema.ts, a library that keeps changing). The (type, seq)
 * index is the one 1795540000002 replaces.
 */
const UP = [
  `CREATE TABLE orders_audit_event (
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
  `CREATE INDEX orders_audit_event_actor_idx ON orders_audit_event (actor, seq) WHERE actor IS NOT NULL`,
  `CREATE INDEX orders_audit_event_subject_idx ON orders_audit_event (subject, seq) WHERE subject IS NOT NULL`,
  `CREATE INDEX orders_audit_event_session_idx ON orders_audit_event (session_id, seq) WHERE session_id IS NOT NULL`,
  `CREATE INDEX orders_audit_event_client_idx ON orders_audit_event (client_id, seq) WHERE client_id IS NOT NULL`,
  `CREATE INDEX orders_audit_event_type_idx ON orders_audit_event (type, seq)`,
  `CREATE INDEX orders_audit_event_time_idx ON orders_audit_event (occurred_at)`,
  `CREATE TABLE orders_audit_event_checkpoint (
      id bigserial PRIMARY KEY,
      seq bigint NOT NULL,
      hash char(64) NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      jws text NOT NULL
    )`,
  `CREATE INDEX orders_audit_event_checkpoint_seq_idx ON orders_audit_event_checkpoint (seq)`,
  `CREATE FUNCTION orders_audit_event_append(
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
      END $$`,
  `CREATE FUNCTION orders_audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END $$`,
  `CREATE TRIGGER orders_audit_event_no_update_delete BEFORE UPDATE OR DELETE ON orders_audit_event FOR EACH ROW EXECUTE FUNCTION orders_audit_event_refuse_change()`,
  `CREATE TRIGGER orders_audit_event_no_truncate BEFORE TRUNCATE ON orders_audit_event FOR EACH STATEMENT EXECUTE FUNCTION orders_audit_event_refuse_change()`,
  `CREATE TRIGGER orders_audit_event_checkpoint_no_update_delete BEFORE UPDATE OR DELETE ON orders_audit_event_checkpoint FOR EACH ROW EXECUTE FUNCTION orders_audit_event_refuse_change()`,
  `CREATE TRIGGER orders_audit_event_checkpoint_no_truncate BEFORE TRUNCATE ON orders_audit_event_checkpoint FOR EACH STATEMENT EXECUTE FUNCTION orders_audit_event_refuse_change()`,
];

const DOWN = [
  `DROP TABLE IF EXISTS orders_audit_event_checkpoint`,
  `DROP TABLE IF EXISTS orders_audit_event`,
  `DROP FUNCTION IF EXISTS orders_audit_event_append(uuid, timestamptz, text, text, text, text, text, text, text, jsonb, text)`,
  `DROP FUNCTION IF EXISTS orders_audit_event_refuse_change()`,
];

export class OrdersAudit1795540000001 implements MigrationInterface {
  name = 'OrdersAudit1795540000001';

  async up(q: QueryRunner): Promise<void> {
    for (const statement of UP) await q.query(statement);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const statement of DOWN) await q.query(statement);
  }
}
