/**
 * The customer's say in login on behalf, as pure functions: the customer
 * chooses whether support may act for them without asking, only after they
 * approve, or never; the store's admin may forbid "never" or require approval
 * (Salesforce's "Grant Login Access", Google's Access Approval). The exchange
 * refuses a session that needs an approval it does not have.
 */
import { invalidRequest } from './errors.js';

export const ACCESS_POLICIES = ['without_asking', 'after_approval', 'never'] as const;
export type AccessPolicy = (typeof ACCESS_POLICIES)[number];

export const APPROVAL_DURATIONS = ['session', '24h', '7d'] as const;
/** How long an approval lets the agent in: this one session, or any session of theirs for 24 hours or 7 days. */
export type ApprovalDuration = (typeof APPROVAL_DURATIONS)[number];

export interface StoreAccessPolicy {
  /** The store lets customers choose "never". */
  allowNever: boolean;
  /** The store asks every customer first, whatever they chose. */
  requireApproval: boolean;
}

export const isAccessPolicy = (value: unknown): value is AccessPolicy => ACCESS_POLICIES.includes(value as AccessPolicy);
export const isApprovalDuration = (value: unknown): value is ApprovalDuration => APPROVAL_DURATIONS.includes(value as ApprovalDuration);

/**
 * What applies: the customer's choice within the store's policy. A "never" the store no longer
 * allows becomes "after approval" (the closest choice it allows); a store that requires approval
 * turns "without asking" into "after approval".
 */
export function effectiveAccessPolicy(choice: AccessPolicy, store: StoreAccessPolicy): AccessPolicy {
  if (choice === 'never') return store.allowNever ? 'never' : 'after_approval';
  if (choice === 'without_asking' && store.requireApproval) return 'after_approval';
  return choice;
}

/** Why a customer's choice is not allowed by the store, or undefined when it is. */
export function refusedChoice(choice: AccessPolicy, store: StoreAccessPolicy): string | undefined {
  if (choice === 'never' && !store.allowNever) return 'this store does not allow refusing support access altogether';
  if (choice === 'without_asking' && store.requireApproval) return 'this store asks for your approval every time';
  return undefined;
}

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

export interface ApprovalFacts {
  id: string;
  status: ApprovalStatus;
  agentId: string;
  customerId: string;
  storeId: string;
  approvedFor: ApprovalDuration | null;
  validUntil: Date | null;
  /** The re-authentication a `session` approval let through (it lets no other through). */
  usedByReauthId: string | null;
}

/** When an approval given now for `duration` stops letting the agent in (`session`: null, it is bound to one re-authentication). */
export function approvalValidUntil(duration: ApprovalDuration, now: Date): Date | null {
  if (duration === '24h') return new Date(now.getTime() + 24 * 3600_000);
  if (duration === '7d') return new Date(now.getTime() + 7 * 24 * 3600_000);
  return null;
}

/** A standing approval (24 h / 7 days) that still lets this agent act for this customer without asking again. */
export function approvalStands(approval: ApprovalFacts, who: { agentId: string; customerId: string; storeId: string }, now: Date): boolean {
  return (
    approval.status === 'approved' &&
    approval.agentId === who.agentId &&
    approval.customerId === who.customerId &&
    approval.storeId === who.storeId &&
    approval.approvedFor !== 'session' &&
    approval.approvedFor !== null &&
    approval.validUntil !== null &&
    approval.validUntil > now
  );
}

/**
 * The exchange's check, when it opens a session: the customer's policy (within the store's) must
 * let this re-authentication through: always for "without asking", never for "never", and for
 * "after approval" only with an approval of this customer for this agent that is still valid.
 */
export function checkCustomerApproval(
  policy: AccessPolicy,
  approval: ApprovalFacts | undefined,
  reauth: { id: string; agentId: string; targetId: string; storeId: string },
  now: Date,
): void {
  if (policy === 'without_asking') return;
  if (policy === 'never') throw invalidRequest('the customer does not allow support to act on their behalf', 'customer_refuses');
  const who = { agentId: reauth.agentId, customerId: reauth.targetId, storeId: reauth.storeId };
  if (
    !approval ||
    approval.status !== 'approved' ||
    approval.agentId !== who.agentId ||
    approval.customerId !== who.customerId ||
    approval.storeId !== who.storeId
  ) {
    throw invalidRequest(
      'the customer must approve this login on behalf first; the re-authentication has no approval',
      'approval_required',
    );
  }
  if (approval.approvedFor === 'session') {
    if (approval.usedByReauthId !== reauth.id)
      throw invalidRequest('the customer approved another session, not this re-authentication', 'approval_required');
    return;
  }
  if (!approvalStands(approval, who, now)) throw invalidRequest('the customer’s approval has run out; ask again', 'approval_expired');
}
