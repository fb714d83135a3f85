/**
 * Re-authentications and on-behalf sessions in PostgreSQL. Opening and ending
 * a session write their audit record in the same transaction (fail closed).
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { AuditEventInput } from '../../audit/index.js';
import type { OnBehalfSessions, ReauthRecord } from '../../token-exchange/ports.js';
import type { AuditService } from '../audit-trail/audit-service.js';
import { preparedQuery } from '../db/prepared.js';
import { invalidRequest } from '../../token-exchange/errors.js';
import { checkSessionLimit } from '../../token-exchange/on-behalf-policy.js';
import { GrantRevocations, type RevocationLogger } from './grant-revocations.js';
import type { GrantPort } from './grant-port.js';
import { JOINED_SESSION_COLUMNS, toSession, type EndReason, type SessionRow, type SessionView } from './session-rows.js';
import { isUuid } from '../../common/uuid.js';
import { revokeTokens } from '../token-status/token-status-store.js';

export type { GrantPort } from './grant-port.js';

export type { EndReason, SessionView } from './session-rows.js';

export class OnBehalfRepository implements OnBehalfSessions {
  /** Session grants are revoked through a durable queue: a failed revocation is retried by the sweep. */
  private readonly revocations: GrantRevocations;

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly grants: GrantPort,
    /** Enforced again when a session opens (see openSession); the CLI, which opens none, leaves it out. */
    private readonly options: {
      maxConcurrentSessions?: number;
      logger?: RevocationLogger;
      /** Runs in the transaction that ends a session (the customer's summary mail is queued there). */
      onEnded?: (manager: EntityManager, ended: SessionRow) => Promise<void>;
    } = {},
  ) {
    this.revocations = new GrantRevocations(dataSource, grants, options.logger);
  }

  async createReauth(
    input: {
      agentId: string;
      targetId: string;
      storeId: string;
      clientId: string;
      grantId: string;
      reason: string;
      ticket: string | null;
      amr: string[];
      authenticatedAt: Date;
      /** The customer's approval it goes through (customers/approvals.ts); a `session` approval lets one re-authentication through. */
      approvalId?: string | null;
    },
    event: AuditEventInput,
  ): Promise<string> {
    return this.dataSource.transaction(async (manager) => {
      const [row] = (await manager.query(
        `INSERT INTO on_behalf_reauth (agent_account_id, target_account_id, store_id, client_id, grant_id, reason, ticket, amr, authenticated_at, approval_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
        [
          input.agentId,
          input.targetId,
          input.storeId,
          input.clientId,
          input.grantId,
          input.reason,
          input.ticket,
          input.amr,
          input.authenticatedAt,
          input.approvalId ?? null,
        ],
      )) as { id: string }[];
      if (input.approvalId) {
        const [claimed] = (await manager.query(
          `WITH used AS (
             UPDATE on_behalf_approval SET used_by_reauth_id = $1
              WHERE id = $2 AND status = 'approved' AND (approved_for <> 'session' OR used_by_reauth_id IS NULL) RETURNING id
           ) SELECT id FROM used`,
          [row!.id, input.approvalId],
        )) as unknown[];
        if (!claimed) throw invalidRequest('the customer’s approval was already used for another session', 'approval_required');
      }
      await this.audit.record({ ...event, details: { ...event.details, reauth_id: row!.id } }, manager);
      return row!.id;
    });
  }

  async reauthByGrant(grantId: string): Promise<{ reauth: ReauthRecord; session: SessionView | undefined } | undefined> {
    const [row] = (await preparedQuery(
      this.dataSource,
      `SELECT r.id AS r_id, r.agent_account_id AS r_agent_account_id, r.target_account_id AS r_target_account_id, r.client_id AS r_client_id,
              r.store_id AS r_store_id, r.authenticated_at AS r_authenticated_at, r.reason AS r_reason, r.ticket AS r_ticket, r.amr AS r_amr,
              r.approval_id AS r_approval_id, a.decided_at AS r_approved_at,
              ${JOINED_SESSION_COLUMNS}
         FROM on_behalf_reauth r LEFT JOIN on_behalf_session s ON s.reauth_id = r.id
         LEFT JOIN on_behalf_approval a ON a.id = r.approval_id
        WHERE r.grant_id = $1 AND r.grant_revoked_at IS NULL`,
      [grantId],
    )) as (Partial<SessionRow> & {
      r_id: string;
      r_agent_account_id: string;
      r_target_account_id: string;
      r_client_id: string;
      r_store_id: string;
      r_authenticated_at: Date;
      r_reason: string;
      r_ticket: string | null;
      r_amr: string[] | null;
      r_approval_id: string | null;
      r_approved_at: Date | null;
    })[];
    if (!row) return undefined;
    return {
      reauth: {
        id: row.r_id,
        agentId: row.r_agent_account_id,
        targetId: row.r_target_account_id,
        clientId: row.r_client_id,
        storeId: row.r_store_id,
        authenticatedAt: row.r_authenticated_at,
        reason: row.r_reason,
        ticket: row.r_ticket,
        amr: row.r_amr ?? [],
        approvalId: row.r_approval_id,
        approvedAt: row.r_approved_at,
      },
      session: row.id ? toSession(row as SessionRow) : undefined,
    };
  }

  async session(id: string): Promise<SessionView | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = (await this.dataSource.query(`SELECT * FROM on_behalf_session WHERE id = $1`, [id])) as SessionRow[];
    return row ? toSession(row) : undefined;
  }

  async countActiveSessions(agentId: string, now: Date): Promise<number> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*)::int AS n FROM on_behalf_session WHERE agent_account_id = $1 AND ended_at IS NULL AND expires_at > $2`,
      [agentId, now],
    )) as { n: number }[];
    return row!.n;
  }

  async openSession(
    input: { reauth: ReauthRecord; expiresAt: Date; now: Date },
    event: (sessionId: string) => AuditEventInput,
  ): Promise<SessionView> {
    const grantId = await this.grants.create(input.reauth.targetId, input.reauth.clientId);
    let outcome: { session: SessionView; opened: boolean };
    try {
      outcome = await this.dataSource.transaction(async (manager) => {
        // The caller decided to open after counting and looking without a lock: concurrent first
        // exchanges of one agent all passed that check (four sessions under a limit of three), and
        // two with the same actor token met the unique reauth_id as a 500. One agent's opens
        // therefore take turns here, and the decision is checked again under the lock.
        await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`on_behalf_session:${input.reauth.agentId}`]);
        const [already] = (await manager.query(`SELECT * FROM on_behalf_session WHERE reauth_id = $1`, [input.reauth.id])) as SessionRow[];
        if (already) {
          // Opened a moment ago by a concurrent exchange with the same actor token: continue it.
          if (already.ended_at)
            throw invalidRequest('the on-behalf session has ended; re-authenticate to start a new one', 'session_ended');
          if (already.expires_at <= input.now)
            throw invalidRequest('the on-behalf session has expired; re-authenticate to start a new one', 'session_expired');
          return { session: toSession(already), opened: false };
        }
        if (this.options.maxConcurrentSessions !== undefined) {
          const [active] = (await manager.query(
            `SELECT count(*)::int AS n FROM on_behalf_session WHERE agent_account_id = $1 AND ended_at IS NULL AND expires_at > $2`,
            [input.reauth.agentId, input.now],
          )) as { n: number }[];
          checkSessionLimit(active!.n, this.options.maxConcurrentSessions);
        }
        const [row] = (await manager.query(
          `INSERT INTO on_behalf_session (reauth_id, agent_account_id, customer_account_id, store_id, client_id, reason, ticket, grant_id, started_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
          [
            input.reauth.id,
            input.reauth.agentId,
            input.reauth.targetId,
            input.reauth.storeId,
            input.reauth.clientId,
            input.reauth.reason,
            input.reauth.ticket,
            grantId,
            input.now,
            input.expiresAt,
          ],
        )) as SessionRow[];
        await this.audit.record(event(row!.id), manager);
        return { session: toSession(row!), opened: true };
      });
    } catch (error) {
      // Nothing was committed: the grant made for the session must not outlive it.
      await this.revocations.revokeUnused(grantId);
      throw error;
    }
    if (!outcome.opened) await this.revocations.revokeUnused(grantId);
    return outcome.session;
  }

  /** Ends one session (idempotent); returns it as it now is (`endedNow`: by this call), or undefined when unknown. */
  async endSession(
    id: string,
    by: string,
    reason: EndReason,
    meta: { clientId?: string | null; ip?: string | null; userAgent?: string | null } = {},
  ): Promise<(SessionView & { endedNow: boolean }) | undefined> {
    const ended = await this.dataSource.transaction(async (manager) => this.endInTransaction(manager, id, by, reason, meta));
    if (ended) {
      // Opaque tokens of the session die with its grant; JWTs through the status check. Queued with
      // the end: if this fails, the session stays ended and the sweep revokes the grant later.
      await this.revocations.revoke(ended.session.grantId, ended.session.id);
      return { ...ended.session, endedNow: true };
    }
    const current = await this.session(id);
    return current && { ...current, endedNow: false };
  }

  private async endInTransaction(
    manager: EntityManager,
    id: string,
    by: string,
    reason: EndReason,
    meta: { clientId?: string | null; ip?: string | null; userAgent?: string | null },
  ) {
    if (!isUuid(id)) return undefined;
    const [row] = (await manager.query(
      // Through a CTE: TypeORM returns UPDATE … RETURNING as [rows, count], a SELECT as rows.
      `WITH ended AS (
         UPDATE on_behalf_session SET ended_at = now(), ended_by = $2, end_reason = $3 WHERE id = $1 AND ended_at IS NULL RETURNING *
       ) SELECT * FROM ended`,
      [id, by, reason],
    )) as SessionRow[];
    if (!row) return undefined;
    await this.revocations.queue(manager, row.grant_id, row.id);
    await this.options.onEnded?.(manager, row);
    // Its JWT access tokens, and every token derived from them, end in the same transaction.
    const tokensRevoked = await revokeTokens(manager, { sessionId: row.id }, 'on_behalf_ended');
    if (tokensRevoked > 0)
      await this.audit.record(
        {
          type: 'token.revoked',
          actor: by,
          subject: row.customer_account_id,
          clientId: meta.clientId ?? row.client_id,
          sessionId: row.id,
          ip: meta.ip ?? null,
          userAgent: meta.userAgent ?? null,
          details: { reason: 'on_behalf_ended', access_token_format: 'jwt', tokens_revoked: tokensRevoked },
        },
        manager,
      );
    await this.audit.record(
      {
        type: 'on_behalf.ended',
        actor: by,
        subject: row.customer_account_id,
        clientId: meta.clientId ?? row.client_id,
        sessionId: row.id,
        ip: meta.ip ?? null,
        userAgent: meta.userAgent ?? null,
        details: { reason, agent: row.agent_account_id, started_at: row.started_at.toISOString() },
      },
      manager,
    );
    return { session: toSession(row) };
  }

  /** Whether a grant is a re-authentication's (such a grant never yields a refresh token). */
  async isReauthGrant(grantId: string): Promise<boolean> {
    const rows = (await preparedQuery(this.dataSource, `SELECT 1 FROM on_behalf_reauth WHERE grant_id = $1`, [grantId])) as unknown[];
    return rows.length > 0;
  }

  /**
   * Ends every active session of an agent (agent logout, kill switch) and revokes every
   * re-authentication grant they still hold, so no actor token of theirs opens a session
   * afterwards; returns how many sessions ended.
   */
  async endAgentSessions(
    agentId: string,
    by: string,
    reason: EndReason,
    meta: { ip?: string | null; userAgent?: string | null } = {},
  ): Promise<number> {
    const ended = await this.endWhere('agent_account_id = $1', agentId, by, reason, meta);
    await this.revokeReauthGrants(agentId, by, reason, meta);
    return ended;
  }

  /**
   * Ends an agent's running sessions in stores they may no longer act for (a revoked permission), with
   * their tokens. `held`: the agent's remaining login-on-behalf grants (`storeId` null: all stores, nothing ends).
   */
  async endSessionsOutside(agentId: string, held: readonly { storeId: string | null }[], by: string): Promise<number> {
    if (held.some((grant) => grant.storeId === null) || !isUuid(agentId)) return 0;
    const allowedStoreIds = held.map((grant) => grant.storeId!);
    const rows = (await this.dataSource.query(
      `SELECT id FROM on_behalf_session WHERE agent_account_id = $1 AND ended_at IS NULL AND store_id::text <> ALL($2::text[])`,
      [agentId, allowedStoreIds],
    )) as { id: string }[];
    let ended = 0;
    for (const { id } of rows) if ((await this.endSession(id, by, 'policy_revoked'))?.endedNow) ended += 1;
    return ended;
  }

  /** Ends every active session in which an account takes part, as agent or as customer (account disabled). */
  async endAccountSessions(accountId: string, by: string, reason: EndReason): Promise<number> {
    const ended = await this.endWhere('(agent_account_id = $1 OR customer_account_id = $1)', accountId, by, reason, {});
    await this.revokeReauthGrants(accountId, by, reason, {});
    return ended;
  }

  /**
   * Revokes the agent's live re-authentication grants (and the actor tokens and codes under
   * them). Marked revoked, queued and audited in one transaction, so the exchange refuses them
   * at once (reauthByGrant skips revoked ones); the grants themselves go through the durable
   * revocation queue, which the expiry sweep retries when a revocation fails.
   */
  async revokeReauthGrants(
    agentId: string,
    by: string,
    reason: EndReason,
    meta: { ip?: string | null; userAgent?: string | null } = {},
  ): Promise<number> {
    if (!isUuid(agentId)) return 0;
    const revoked = await this.dataSource.transaction(async (manager) => {
      const [rows] = (await manager.query(
        `UPDATE on_behalf_reauth SET grant_revoked_at = now() WHERE agent_account_id = $1 AND grant_revoked_at IS NULL RETURNING id, grant_id`,
        [agentId],
      )) as [{ id: string; grant_id: string }[], number];
      if (!rows.length) return rows;
      for (const row of rows) await this.revocations.queue(manager, row.grant_id, null);
      await this.audit.record(
        {
          type: 'on_behalf.reauth_revoked',
          actor: by,
          subject: agentId,
          clientId: null,
          ip: meta.ip ?? null,
          userAgent: meta.userAgent ?? null,
          details: { reason, count: rows.length, reauth_ids: rows.slice(0, 100).map((row) => row.id) },
        },
        manager,
      );
      return rows;
    });
    for (const row of revoked) await this.revocations.revoke(row.grant_id, null);
    return revoked.length;
  }

  private async endWhere(
    condition: string,
    accountId: string,
    by: string,
    reason: EndReason,
    meta: { ip?: string | null; userAgent?: string | null },
  ): Promise<number> {
    const rows = (await this.dataSource.query(`SELECT id FROM on_behalf_session WHERE ${condition} AND ended_at IS NULL`, [accountId])) as {
      id: string;
    }[];
    let ended = 0;
    for (const { id } of rows) if ((await this.endSession(id, by, reason, meta))?.endedNow) ended += 1;
    return ended;
  }

  /** Retries grant revocations that failed when their session ended (the expiry sweep calls it). */
  async retryGrantRevocations(): Promise<number> {
    return this.revocations.retryQueued();
  }

  /** Closes sessions whose time is up, so their end is audited and their tokens die. */
  async endExpired(now = new Date()): Promise<number> {
    const rows = (await this.dataSource.query(`SELECT id FROM on_behalf_session WHERE ended_at IS NULL AND expires_at <= $1 LIMIT 500`, [
      now,
    ])) as { id: string }[];
    for (const { id } of rows) await this.endSession(id, 'system', 'expired');
    return rows.length;
  }

  async list(
    filter: {
      agentId?: string;
      customerId?: string;
      /** Any of these agents (one person may have several accounts). */
      agentIds?: string[];
      customerIds?: string[];
      storeId?: string;
      active?: boolean;
      limit?: number;
    } = {},
  ): Promise<SessionView[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.agentId) where.push(`agent_account_id = $${params.push(filter.agentId)}`);
    if (filter.customerId) where.push(`customer_account_id = $${params.push(filter.customerId)}`);
    if (filter.agentIds) where.push(`agent_account_id = ANY($${params.push(filter.agentIds)}::uuid[])`);
    if (filter.customerIds) where.push(`customer_account_id = ANY($${params.push(filter.customerIds)}::uuid[])`);
    if (filter.storeId) where.push(`store_id = $${params.push(filter.storeId)}`);
    if (filter.active === true) where.push('ended_at IS NULL AND expires_at > now()');
    if (filter.active === false) where.push('(ended_at IS NOT NULL OR expires_at <= now())');
    params.push(Math.min(Math.max(filter.limit ?? 50, 1), 500));
    const rows = (await this.dataSource.query(
      `SELECT * FROM on_behalf_session ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC LIMIT $${params.length}`,
      params,
    )) as SessionRow[];
    return rows.map(toSession);
  }
}
