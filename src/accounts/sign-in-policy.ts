/**
 * Who may sign in through which client: pure rules, no I/O.
 * Through a store's client only that store's customers sign in; through a
 * back-office client only staff. (Staff re-authenticating at a storefront for
 * login on behalf is a separate flow with its own checks.)
 */
import type { AccountStatus, RoleName } from './entities/index.js';

export type ClientAudience = { kind: 'storefront'; storeId: string } | { kind: 'backoffice' } | { kind: 'service' };

export interface SignInCandidate {
  storeId: string | null;
  status: AccountStatus;
  lockedUntil: Date | null;
  roles: readonly RoleName[];
}

export type SignInDecision = { ok: true } | { ok: false; reason: 'wrong_audience' | 'disabled' | 'locked' };

const STAFF_ROLES: readonly RoleName[] = ['support', 'admin'];

export function isStaff(roles: readonly RoleName[]): boolean {
  return roles.some((role) => STAFF_ROLES.includes(role));
}

/** Which accounts a client's sign-in form looks up: the store's own, or staff (no store). */
export function accountScopeFor(client: ClientAudience): { storeId: string | null } | undefined {
  switch (client.kind) {
    case 'storefront':
      return { storeId: client.storeId };
    case 'backoffice':
      return { storeId: null };
    case 'service':
      return undefined;
  }
}

export function isLocked(candidate: Pick<SignInCandidate, 'status' | 'lockedUntil'>, now: Date): boolean {
  return candidate.status === 'locked' || (candidate.lockedUntil !== null && candidate.lockedUntil > now);
}

export function decideSignIn(client: ClientAudience, candidate: SignInCandidate, now: Date): SignInDecision {
  if (client.kind === 'service') return { ok: false, reason: 'wrong_audience' };
  if (client.kind === 'storefront' && (candidate.storeId !== client.storeId || !candidate.roles.includes('customer'))) {
    return { ok: false, reason: 'wrong_audience' };
  }
  if (client.kind === 'backoffice' && (candidate.storeId !== null || !isStaff(candidate.roles))) {
    return { ok: false, reason: 'wrong_audience' };
  }
  if (candidate.status === 'disabled') return { ok: false, reason: 'disabled' };
  if (isLocked(candidate, now)) return { ok: false, reason: 'locked' };
  return { ok: true };
}

export interface LockoutPolicy {
  threshold: number;
  lockoutSeconds: number;
}

/** After a failed password: the new counter and, at the threshold, when the lock ends. */
export function afterFailedPassword(
  failedCount: number,
  policy: LockoutPolicy,
  now: Date,
): { failedLoginCount: number; lockedUntil: Date | null } {
  const next = failedCount + 1;
  if (next >= policy.threshold) return { failedLoginCount: 0, lockedUntil: new Date(now.getTime() + policy.lockoutSeconds * 1000) };
  return { failedLoginCount: next, lockedUntil: null };
}
