/**
 * The signed-in agent's own on-behalf sessions, through Behalf's agent API
 * (`/agent/on-behalf/…`, authorised by the agent's own access token, never the
 * admin API), and how the portal words them: times, time left, end reasons.
 */
import type { BehalfApi } from './behalf-api.js';

export interface SessionCustomer {
  id: string;
  /** Null only if Behalf no longer knows the account. */
  name: string | null;
  email: string | null;
  store: { slug: string; name: string } | null;
}

export interface AgentSessionJson {
  id: string;
  customer_id: string;
  client_id: string;
  reason: string;
  ticket: string | null;
  started_at: string;
  expires_at: string;
  ended_at: string | null;
  end_reason: string | null;
  active: boolean;
  customer: SessionCustomer;
}

export interface AgentSessionList {
  agent: { id: string; name: string };
  may_login_on_behalf: boolean;
  max_concurrent_sessions: number;
  sessions: AgentSessionJson[];
}

/** Behalf's end reasons, in words (unknown ones are shown as they come). */
export const END_REASONS: Record<string, string> = {
  ended_by_admin: 'ended by an admin',
  ended_by_agent: 'ended by the agent',
  kill_switch: 'ended with all of the agent’s sessions',
  ended_by_client: 'ended from the storefront',
  ended_by_customer: 'ended by the customer',
  agent_logout: 'the agent signed out',
  policy_revoked: 'the agent lost the permission',
  account_disabled: 'an account was disabled',
  expired: 'expired',
};

export function endReasonText(reason: string | null): string {
  return reason ? (END_REASONS[reason] ?? reason.replace(/_/g, ' ')) : '';
}

/** "2026-11-24 15:30:12 UTC": unambiguous for staff in any time zone. */
export function when(iso: string | null): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : '';
}

/** "14:02 UTC", for today's sessions (they last an hour at most). */
export function clock(iso: string): string {
  return `${iso.slice(11, 16)} UTC`;
}

/** "38 min left", "less than a minute left", or "" once over. */
export function timeLeft(expiresAt: string, now = Date.now()): string {
  const ms = Date.parse(expiresAt) - now;
  if (!(ms > 0)) return '';
  const minutes = Math.floor(ms / 60_000);
  return minutes < 1 ? 'less than a minute left' : `${minutes} min left`;
}

/** "Oleg Petrov (oleg@example.com) at Electronics": whom the agent acted for, in words. */
export function customerText(customer: SessionCustomer): string {
  const name = customer.name ?? 'an account Behalf no longer knows';
  return `${name}${customer.email ? ` (${customer.email})` : ''}${customer.store ? ` at ${customer.store.name}` : ''}`;
}

export function listAgentSessions(api: BehalfApi, token: string, filter: { active: boolean; limit: number }): Promise<AgentSessionList> {
  return api.get<AgentSessionList>('/agent/on-behalf/sessions', token, { active: String(filter.active), limit: String(filter.limit) });
}

export function endAgentSession(api: BehalfApi, token: string, id: string): Promise<AgentSessionJson & { ended_now: boolean }> {
  return api.post(`/agent/on-behalf/sessions/${encodeURIComponent(id)}/end`, token);
}
