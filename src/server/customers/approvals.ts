/**
 * The customer's approvals of login on behalf, in PostgreSQL. An agent's
 * request, its mail to the customer and its audit record are written in one
 * transaction; so are the customer's answer and its record, and a request's
 * expiry and its record. The exchange reads an approval through
 * `forExchange` (the CustomerApprovals port).
 */
import type { DataSource } from 'typeorm';
import type { CustomerApprovals, ReauthRecord } from '../../token-exchange/ports.js';
import {
  approvalStands,
  approvalValidUntil,
  type ApprovalDuration,
  type ApprovalFacts,
  type ApprovalStatus,
} from '../../token-exchange/customer-approval-policy.js';
import { isUuid } from '../../common/uuid.js';
import type { AuditService } from '../audit-trail/audit-service.js';
import type { RequestMeta } from '../audit-trail/request-meta.js';
import type { MailOutbox } from '../mail/outbox.js';
import type { AccessPolicies } from './access-policies.js';

export interface ApprovalView extends ApprovalFacts {
  clientId: string;
  interactionUid: string | null;
  reason: string;
  ticket: string | null;
  amr: string[];
  authenticatedAt: Date;
  requestedAt: Date;
  expiresAt: Date;
  decidedAt: Date | null;
}

interface ApprovalRow {
  id: string;
  store_id: string;
  agent_account_id: string;
  customer_account_id: string;
  client_id: string;
  interaction_uid: string | null;
  reason: string;
  ticket: string | null;
  amr: string[];
  authenticated_at: Date;
  status: ApprovalStatus;
  requested_at: Date;
  expires_at: Date;
  decided_at: Date | null;
  approved_for: ApprovalDuration | null;
  valid_until: Date | null;
  used_by_reauth_id: string | null;
}

const toView = (row: ApprovalRow): ApprovalView => ({
  id: row.id,
  storeId: row.store_id,
  agentId: row.agent_account_id,
  customerId: row.customer_account_id,
  clientId: row.client_id,
  interactionUid: row.interaction_uid,
  reason: row.reason,
  ticket: row.ticket,
  amr: row.amr,
  authenticatedAt: row.authenticated_at,
  status: row.status,
  requestedAt: row.requested_at,
  expiresAt: row.expires_at,
  decidedAt: row.decided_at,
  approvedFor: row.approved_for,
  validUntil: row.valid_until,
  usedByReauthId: row.used_by_reauth_id,
});

export interface ApprovalRequestInput {
  agentId: string;
  customerId: string;
  storeId: string;
  clientId: string;
  interactionUid: string;
  reason: string;
  ticket: string | null;
  amr: string[];
  authenticatedAt: Date;
}

export interface ApprovalsOptions {
  requestTtlSeconds: number;
  mailEnabled: boolean;
}

export class Approvals implements CustomerApprovals {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly mail: MailOutbox,
    private readonly policies: AccessPolicies,
    private readonly options: ApprovalsOptions,
  ) {}

  async find(id: string): Promise<ApprovalView | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = (await this.dataSource.query(`SELECT * FROM on_behalf_approval WHERE id = $1`, [id])) as ApprovalRow[];
    return row && toView(row);
  }

  /** The latest request made from a re-authentication screen (the agent's waiting page), expired first if its time is up. */
  async forInteraction(uid: string): Promise<ApprovalView | undefined> {
    const [row] = (await this.dataSource.query(
      `SELECT * FROM on_behalf_approval WHERE interaction_uid = $1 ORDER BY requested_at DESC LIMIT 1`,
      [uid],
    )) as ApprovalRow[];
    if (!row) return undefined;
    if (row.status === 'pending' && row.expires_at <= new Date()) {
      await this.expireDue();
      return this.find(row.id);
    }
    return toView(row);
  }

  /** A standing approval (24 h / 7 days) this agent still holds for this customer. */
  async standing(who: { agentId: string; customerId: string; storeId: string }, now = new Date()): Promise<ApprovalView | undefined> {
    const rows = (await this.dataSource.query(
      `SELECT * FROM on_behalf_approval
        WHERE agent_account_id = $1 AND customer_account_id = $2 AND status = 'approved' AND valid_until > $3
        ORDER BY valid_until DESC LIMIT 5`,
      [who.agentId, who.customerId, now],
    )) as ApprovalRow[];
    return rows.map(toView).find((approval) => approvalStands(approval, who, now));
  }

  async listForCustomer(customerId: string, limit = 50): Promise<ApprovalView[]> {
    await this.expireDue();
    const rows = (await this.dataSource.query(
      `SELECT * FROM on_behalf_approval WHERE customer_account_id = $1 ORDER BY requested_at DESC LIMIT $2`,
      [customerId, limit],
    )) as ApprovalRow[];
    return rows.map(toView);
  }

  /** Records the agent's request, mails the customer (when mail is on and they have an address), audits it. */
  async request(
    input: ApprovalRequestInput,
    mail: { to: string | null; name: string; agentName: string; storeName: string; link: string | null },
    meta: RequestMeta,
  ): Promise<ApprovalView> {
    return this.dataSource.transaction(async (manager) => {
      const [row] = (await manager.query(
        `INSERT INTO on_behalf_approval (store_id, agent_account_id, customer_account_id, client_id, interaction_uid, reason, ticket, amr,
                                         authenticated_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + make_interval(secs => $10)) RETURNING *`,
        [
          input.storeId,
          input.agentId,
          input.customerId,
          input.clientId,
          input.interactionUid,
          input.reason,
          input.ticket,
          input.amr,
          input.authenticatedAt,
          this.options.requestTtlSeconds,
        ],
      )) as ApprovalRow[];
      const approval = toView(row!);
      const mailed = this.options.mailEnabled && !!mail.to && !!mail.link;
      if (mailed) {
        await this.mail.enqueue(manager, {
          to: mail.to!,
          template: 'approval_request',
          data: {
            name: mail.name,
            storeName: mail.storeName,
            agentName: mail.agentName,
            reason: input.reason,
            ticket: input.ticket,
            link: mail.link!.replace('{id}', approval.id),
            expiresAt: `${approval.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
          },
        });
      }
      await this.audit.record(
        {
          type: 'on_behalf.approval.requested',
          actor: input.agentId,
          subject: input.customerId,
          clientId: input.clientId,
          ...meta,
          details: {
            approval_id: approval.id,
            reason: input.reason,
            ticket: input.ticket,
            expires_at: approval.expiresAt.toISOString(),
            mailed,
          },
        },
        manager,
      );
      return approval;
    });
  }

  /**
   * The customer's answer. Only a pending, unexpired request of this very customer can be
   * answered; returns it as it now is, or undefined when there is no such request to answer.
   */
  async decide(
    id: string,
    customerId: string,
    answer: { approve: true; duration: ApprovalDuration } | { approve: false },
    meta: RequestMeta & { clientId: string | null },
  ): Promise<ApprovalView | undefined> {
    if (!isUuid(id)) return undefined;
    await this.expireDue();
    return this.dataSource.transaction(async (manager) => {
      const now = new Date();
      const [row] = (await manager.query(
        `WITH decided AS (
           UPDATE on_behalf_approval SET status = $3, decided_at = $4, approved_for = $5, valid_until = $6
            WHERE id = $1 AND customer_account_id = $2 AND status = 'pending' AND expires_at > $4 RETURNING *
         ) SELECT * FROM decided`,
        [
          id,
          customerId,
          answer.approve ? 'approved' : 'denied',
          now,
          answer.approve ? answer.duration : null,
          answer.approve ? approvalValidUntil(answer.duration, now) : null,
        ],
      )) as ApprovalRow[];
      if (!row) return undefined;
      await this.audit.record(
        {
          type: answer.approve ? 'on_behalf.approval.approved' : 'on_behalf.approval.denied',
          actor: customerId,
          subject: customerId,
          clientId: meta.clientId,
          ip: meta.ip,
          userAgent: meta.userAgent,
          details: {
            approval_id: id,
            agent: row.agent_account_id,
            ...(answer.approve ? { approved_for: answer.duration, valid_until: row.valid_until?.toISOString() ?? null } : {}),
          },
        },
        manager,
      );
      return toView(row);
    });
  }

  /** Marks requests whose time is up as expired, each with its audit record; returns how many. */
  async expireDue(now = new Date()): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const rows = (await manager.query(
        `WITH expired AS (
           UPDATE on_behalf_approval SET status = 'expired', decided_at = $1
            WHERE id IN (SELECT id FROM on_behalf_approval WHERE status = 'pending' AND expires_at <= $1 LIMIT 200 FOR UPDATE SKIP LOCKED)
           RETURNING id, agent_account_id, customer_account_id, client_id, expires_at
         ) SELECT * FROM expired`,
        [now],
      )) as { id: string; agent_account_id: string; customer_account_id: string; client_id: string; expires_at: Date }[];
      for (const row of rows) {
        await this.audit.record(
          {
            type: 'on_behalf.approval.expired',
            actor: 'system',
            subject: row.customer_account_id,
            clientId: row.client_id,
            details: { approval_id: row.id, agent: row.agent_account_id, expired_at: row.expires_at.toISOString() },
          },
          manager,
        );
      }
      return rows.length;
    });
  }

  /** The CustomerApprovals port: the customer's effective policy and the approval the re-authentication went through. */
  async forExchange(
    reauth: ReauthRecord,
  ): Promise<{ policy: 'without_asking' | 'after_approval' | 'never'; approval: ApprovalFacts | undefined }> {
    const [policy, approval] = await Promise.all([
      this.policies.forCustomer(reauth.targetId),
      reauth.approvalId ? this.find(reauth.approvalId) : undefined,
    ]);
    // An account without a store is no customer: checkTarget has refused it already; fail closed anyway.
    return { policy: policy?.effective ?? 'never', approval };
  }
}
