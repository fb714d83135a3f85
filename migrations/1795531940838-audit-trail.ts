import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Behalf's append-only, hash-chained audit trail and its signed checkpoints.
 *
 * Frozen: the literal DDL this migration ran when it was written (it used to
 * call src/audit/schema.ts, whose later changes would have changed what a
 * fresh database gets here). The (type, seq) index is the one 1795536000000
 * replaces. Concurrency of <table>_append() is explained in src/audit/schema.ts.
 */
const UP = [
  `CREATE TABLE audit_event (
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
  `CREATE INDEX audit_event_actor_idx ON audit_event (actor, seq) WHERE actor IS NOT NULL`,
  `CREATE INDEX audit_event_subject_idx ON audit_event (subject, seq) WHERE subject IS NOT NULL`,
  `CREATE INDEX audit_event_session_idx ON audit_event (session_id, seq) WHERE session_id IS NOT NULL`,
  `CREATE INDEX audit_event_client_idx ON audit_event (client_id, seq) WHERE client_id IS NOT NULL`,
  `CREATE INDEX audit_event_type_idx ON audit_event (type, seq)`,
  `CREATE INDEX audit_event_time_idx ON audit_event (occurred_at)`,
  `CREATE TABLE audit_event_checkpoint (
      id bigserial PRIMARY KEY,
      seq bigint NOT NULL,
      hash char(64) NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      jws text NOT NULL
    )`,
  `CREATE INDEX audit_event_checkpoint_seq_idx ON audit_event_checkpoint (seq)`,
  `CREATE FUNCTION audit_event_append(
        p_id uuid, p_occurred_at timestamptz, p_type text, p_actor text, p_subject text, p_client_id text,
        p_session_id text, p_ip text, p_user_agent text, p_details jsonb, p_content_hash text)
      RETURNS TABLE (seq bigint, hash text) LANGUAGE plpgsql AS $$
      DECLARE
        head_seq bigint;
        head_hash text;
        next_hash text;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('audit_event'));
        SELECT e.seq, e.hash INTO head_seq, head_hash FROM audit_event e ORDER BY e.seq DESC LIMIT 1;
        head_seq := coalesce(head_seq, 0);
        head_hash := coalesce(head_hash, repeat('0', 64));
        next_hash := encode(sha256(convert_to(head_hash || ':' || (head_seq + 1)::text || ':' || p_content_hash, 'UTF8')), 'hex');
        INSERT INTO audit_event (seq, id, occurred_at, type, actor, subject, client_id, session_id, ip, user_agent, details, content_hash, prev_hash, hash)
        VALUES (head_seq + 1, p_id, p_occurred_at, p_type, p_actor, p_subject, p_client_id, p_session_id, p_ip, p_user_agent, p_details, p_content_hash, head_hash, next_hash);
        RETURN QUERY SELECT head_seq + 1, next_hash;
      END $$`,
  `CREATE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END $$`,
  `CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON audit_event FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change()`,
  `CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change()`,
  `CREATE TRIGGER audit_event_checkpoint_no_update_delete BEFORE UPDATE OR DELETE ON audit_event_checkpoint FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change()`,
  `CREATE TRIGGER audit_event_checkpoint_no_truncate BEFORE TRUNCATE ON audit_event_checkpoint FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change()`,
];

const DOWN = [
  `DROP TABLE IF EXISTS audit_event_checkpoint`,
  `DROP TABLE IF EXISTS audit_event`,
  `DROP FUNCTION IF EXISTS audit_event_append(uuid, timestamptz, text, text, text, text, text, text, text, jsonb, text)`,
  `DROP FUNCTION IF EXISTS audit_event_refuse_change()`,
];

export class AuditTrail1795531940838 implements MigrationInterface {
  name = 'AuditTrail1795531940838';

  async up(q: QueryRunner): Promise<void> {
    for (const statement of UP) await q.query(statement);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const statement of DOWN) await q.query(statement);
  }
}
