/**
 * "This wasn't me / I didn't ask for this": a customer's report on a finished
 * (or running) on-behalf session of their own account, for the store's
 * admins. Stored with its audit record in one transaction; one per session.
 */
import type { DataSource } from 'typeorm';
import type { AuditService } from '../audit-trail/audit-service.js';
import type { RequestMeta } from '../audit-trail/request-meta.js';
import { isUuid } from '../../common/uuid.js';

export interface ReportView {
  id: string;
  sessionId: string;
  comment: string | null;
  reportedAt: Date;
  customer: { id: string; name: string | null; email: string | null };
  agent: { id: string; name: string | null; email: string | null };
  store: { id: string; slug: string | null; name: string | null };
  session: { reason: string; ticket: string | null; startedAt: Date; endedAt: Date | null; endReason: string | null };
}

interface ReportRow {
  id: string;
  session_id: string;
  comment: string | null;
  reported_at: Date;
  customer_id: string;
  customer_name: string | null;
  customer_email: string | null;
  agent_id: string;
  agent_name: string | null;
  agent_email: string | null;
  store_id: string;
  store_slug: string | null;
  store_name: string | null;
  reason: string;
  ticket: string | null;
  started_at: Date;
  ended_at: Date | null;
  end_reason: string | null;
}

const SELECT = `SELECT r.id, r.session_id, r.comment, r.reported_at,
         c.id AS customer_id, c.display_name AS customer_name, c.email AS customer_email,
         a.id AS agent_id, a.display_name AS agent_name, a.email AS agent_email,
         st.id AS store_id, st.slug AS store_slug, st.name AS store_name,
         s.reason, s.ticket, s.started_at, s.ended_at, s.end_reason
    FROM on_behalf_report r
    JOIN on_behalf_session s ON s.id = r.session_id
    JOIN account c ON c.id = r.customer_account_id
    JOIN account a ON a.id = s.agent_account_id
    JOIN store st ON st.id = r.store_id`;

const toView = (row: ReportRow): ReportView => ({
  id: row.id,
  sessionId: row.session_id,
  comment: row.comment,
  reportedAt: row.reported_at,
  customer: { id: row.customer_id, name: row.customer_name, email: row.customer_email },
  agent: { id: row.agent_id, name: row.agent_name, email: row.agent_email },
  store: { id: row.store_id, slug: row.store_slug, name: row.store_name },
  session: { reason: row.reason, ticket: row.ticket, startedAt: row.started_at, endedAt: row.ended_at, endReason: row.end_reason },
});

export class Reports {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  /**
   * Reports a session of the customer's own account; returns the report (the earlier one if the
   * session was reported already), or undefined when the session is not theirs.
   */
  async report(
    sessionId: string,
    customerId: string,
    comment: string | null,
    meta: RequestMeta & { clientId: string | null },
  ): Promise<{ report: ReportView; created: boolean } | undefined> {
    if (!isUuid(sessionId)) return undefined;
    const created = await this.dataSource.transaction(async (manager) => {
      const [session] = (await manager.query(
        `SELECT id, store_id, agent_account_id FROM on_behalf_session WHERE id = $1 AND customer_account_id = $2`,
        [sessionId, customerId],
      )) as { id: string; store_id: string; agent_account_id: string }[];
      if (!session) return undefined;
      const [row] = (await manager.query(
        `INSERT INTO on_behalf_report (session_id, customer_account_id, store_id, comment) VALUES ($1, $2, $3, $4)
         ON CONFLICT (session_id) DO NOTHING RETURNING id`,
        [sessionId, customerId, session.store_id, comment],
      )) as { id: string }[];
      if (!row) return false;
      await this.audit.record(
        {
          type: 'on_behalf.reported',
          actor: customerId,
          subject: customerId,
          clientId: meta.clientId,
          sessionId,
          ip: meta.ip,
          userAgent: meta.userAgent,
          details: { report_id: row.id, agent: session.agent_account_id, store_id: session.store_id, comment: comment ?? null },
        },
        manager,
      );
      return true;
    });
    if (created === undefined) return undefined;
    const [row] = (await this.dataSource.query(`${SELECT} WHERE r.session_id = $1`, [sessionId])) as ReportRow[];
    return { report: toView(row!), created };
  }

  async list(filter: { storeId?: string; limit?: number } = {}): Promise<ReportView[]> {
    const params: unknown[] = [];
    const where = filter.storeId ? `WHERE r.store_id = $${params.push(filter.storeId)}` : '';
    params.push(Math.min(Math.max(filter.limit ?? 100, 1), 500));
    const rows = (await this.dataSource.query(
      `${SELECT} ${where} ORDER BY r.reported_at DESC LIMIT $${params.length}`,
      params,
    )) as ReportRow[];
    return rows.map(toView);
  }
}

export function reportJson(report: ReportView): Record<string, unknown> {
  return {
    id: report.id,
    session_id: report.sessionId,
    comment: report.comment,
    reported_at: report.reportedAt.toISOString(),
    customer: report.customer,
    agent: report.agent,
    store: report.store,
    session: {
      reason: report.session.reason,
      ticket: report.session.ticket,
      started_at: report.session.startedAt.toISOString(),
      ended_at: report.session.endedAt?.toISOString() ?? null,
      end_reason: report.session.endReason,
    },
  };
}
