/** on_behalf_session rows as read from PostgreSQL, and the session as the rest of Behalf sees it. */
import type { OnBehalfSession } from '../../token-exchange/ports.js';

export interface SessionView extends OnBehalfSession {
  storeId: string;
  reason: string;
  ticket: string | null;
  startedAt: Date;
  endedBy: string | null;
  endReason: string | null;
}

export type EndReason =
  | 'ended_by_client'
  | 'ended_by_customer'
  | 'ended_by_admin'
  | 'ended_by_agent'
  | 'agent_logout'
  | 'expired'
  | 'kill_switch'
  | 'policy_revoked'
  | 'account_disabled';

export interface SessionRow {
  id: string;
  reauth_id: string;
  agent_account_id: string;
  customer_account_id: string;
  store_id: string;
  client_id: string;
  reason: string;
  ticket: string | null;
  grant_id: string;
  started_at: Date;
  expires_at: Date;
  ended_at: Date | null;
  ended_by: string | null;
  end_reason: string | null;
}

export function toSession(row: SessionRow): SessionView {
  return {
    id: row.id,
    agentId: row.agent_account_id,
    customerId: row.customer_account_id,
    storeId: row.store_id,
    clientId: row.client_id,
    reason: row.reason,
    ticket: row.ticket,
    grantId: row.grant_id,
    startedAt: row.started_at,
    expiresAt: row.expires_at,
    endedAt: row.ended_at,
    endedBy: row.ended_by,
    endReason: row.end_reason,
  };
}

/**
 * Named rather than `*`: a prepared statement whose result columns change (a
 * migration run by a newer instance) would fail until its connection closes.
 */
const SESSION_COLUMNS = [
  'id',
  'reauth_id',
  'agent_account_id',
  'customer_account_id',
  'store_id',
  'client_id',
  'reason',
  'ticket',
  'grant_id',
  'started_at',
  'expires_at',
  'ended_at',
  'ended_by',
  'end_reason',
];
export const JOINED_SESSION_COLUMNS = SESSION_COLUMNS.map((column) => `s.${column}`).join(', ');
