/** Words and times as the console shows them (UTC, minutes; never a bare id where a name exists). */

/** "2026-12-05 12:30 UTC" */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  return `${iso.replace('T', ' ').slice(0, 16)} UTC`;
}

/** "1 h 5 min", "3 min", "under a minute" */
export function minutes(ms: number): string {
  const total = Math.floor(Math.max(ms, 0) / 60_000);
  if (total < 1) return 'under a minute';
  const hours = Math.floor(total / 60);
  return hours ? `${hours} h ${total % 60} min` : `${total} min`;
}

export interface PersonRef {
  id: string;
  name: string | null;
  email: string | null;
  store?: { name: string } | string | null;
}

/** "Oleg Petrov" (or the email, or the id when nothing else is known). */
export function personName(person: PersonRef | null | undefined): string {
  if (!person) return 'someone unknown';
  return person.name ?? person.email ?? person.id;
}

const END_REASONS: Record<string, string> = {
  ended_by_client: 'Ended at the storefront',
  ended_by_customer: 'Ended by the customer',
  ended_by_admin: 'Ended by an admin',
  ended_by_agent: 'Ended by the agent',
  agent_logout: 'Agent signed out',
  expired: 'Time ran out',
  kill_switch: 'All of the agent’s sessions ended',
  policy_revoked: 'Permission revoked',
  account_disabled: 'Account disabled',
};

export function endReason(reason: string | null): string {
  return reason ? (END_REASONS[reason] ?? reason) : '';
}

export function roles(list: readonly string[]): string {
  return list.length ? list.join(', ') : 'none';
}

export const STATUS_WORDS: Record<string, string> = { active: 'Active', locked: 'Locked', disabled: 'Disabled' };
