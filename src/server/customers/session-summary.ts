/**
 * When an on-behalf session ends, the customer gets a summary by mail: who
 * acted, why, when, how it ended, a link to the access history (what was
 * done, step by step) and a "this wasn't me" link. The mail is queued in the
 * transaction that ends the session, so it is sent exactly when the end is
 * recorded, and never delays the end itself.
 */
import type { EntityManager } from 'typeorm';
import type { MailOutbox } from '../mail/outbox.js';
import type { SessionRow } from '../on-behalf/session-rows.js';

const ENDED_HOW: Record<string, string> = {
  ended_by_client: 'ended by the support agent',
  ended_by_agent: 'ended by the support agent',
  ended_by_customer: 'ended by you',
  ended_by_admin: 'ended by an administrator',
  kill_switch: 'ended by an administrator',
  agent_logout: 'ended when the agent signed out',
  expired: 'reached its time limit',
  policy_revoked: 'ended because permissions changed',
  account_disabled: 'ended because an account was disabled',
};

const shown = (at: Date) => `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

export type SessionEndListener = (manager: EntityManager, ended: SessionRow) => Promise<void>;

export function sessionSummaryMail(mail: MailOutbox): SessionEndListener {
  return async function queueSessionSummary(manager, ended) {
    const [info] = (await manager.query(
      `SELECT c.email, c.display_name AS customer_name, a.display_name AS agent_name, s.name AS store_name, s.base_url
         FROM account c, account a, store s WHERE c.id = $1 AND a.id = $2 AND s.id = $3`,
      [ended.customer_account_id, ended.agent_account_id, ended.store_id],
    )) as { email: string | null; customer_name: string; agent_name: string; store_name: string; base_url: string | null }[];
    // Without an address, or a store page to link to, there is nothing useful to send.
    if (!info?.email || !info.base_url) return;
    const base = info.base_url.replace(/\/+$/, '');
    await mail.enqueue(manager, {
      to: info.email,
      template: 'session_summary',
      data: {
        name: info.customer_name,
        storeName: info.store_name,
        agentName: info.agent_name,
        reason: ended.reason,
        ticket: ended.ticket,
        startedAt: shown(ended.started_at),
        endedAt: shown(ended.ended_at ?? new Date()),
        endedHow: ENDED_HOW[ended.end_reason ?? ''] ?? 'ended',
        historyLink: `${base}/account/history`,
        reportLink: `${base}/account/history/${ended.id}/report`,
      },
    });
  };
}
