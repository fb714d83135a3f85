/** The customer's say in login on behalf, as pure functions: no HTTP, no database. */
import {
  approvalValidUntil,
  checkCustomerApproval,
  effectiveAccessPolicy,
  refusedChoice,
  type ApprovalFacts,
} from '../../src/token-exchange/customer-approval-policy.js';
import { TokenExchangeError } from '../../src/token-exchange/errors.js';
import { decideSession } from '../../src/token-exchange/on-behalf-policy.js';

const now = new Date('2026-12-05T12:00:00Z');
const reauth = { id: 'r1', agentId: 'sam', targetId: 'oleg', storeId: 'shop' };
const approval = (over: Partial<ApprovalFacts> = {}): ApprovalFacts => ({
  id: 'a1',
  status: 'approved',
  agentId: 'sam',
  customerId: 'oleg',
  storeId: 'shop',
  approvedFor: 'session',
  validUntil: null,
  usedByReauthId: 'r1',
  ...over,
});
const reason = (fn: () => void) => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as TokenExchangeError).reason;
  }
};

test('the effective policy is the customer’s choice within the store’s', () => {
  const open = { allowNever: true, requireApproval: false };
  expect(effectiveAccessPolicy('without_asking', open)).toBe('without_asking');
  expect(effectiveAccessPolicy('never', open)).toBe('never');
  expect(effectiveAccessPolicy('never', { allowNever: false, requireApproval: false })).toBe('after_approval');
  expect(effectiveAccessPolicy('without_asking', { allowNever: true, requireApproval: true })).toBe('after_approval');
  expect(refusedChoice('never', { allowNever: false, requireApproval: false })).toBeDefined();
  expect(refusedChoice('without_asking', { allowNever: true, requireApproval: true })).toBeDefined();
  expect(refusedChoice('after_approval', { allowNever: false, requireApproval: true })).toBeUndefined();
});

test('the exchange check: without asking passes, never refuses, after approval needs a valid approval for this agent', () => {
  expect(reason(() => checkCustomerApproval('without_asking', undefined, reauth, now))).toBeUndefined();
  expect(reason(() => checkCustomerApproval('never', approval(), reauth, now))).toBe('customer_refuses');
  expect(reason(() => checkCustomerApproval('after_approval', undefined, reauth, now))).toBe('approval_required');
  expect(reason(() => checkCustomerApproval('after_approval', approval(), reauth, now))).toBeUndefined();
  expect(reason(() => checkCustomerApproval('after_approval', approval({ status: 'denied' }), reauth, now))).toBe('approval_required');
  expect(reason(() => checkCustomerApproval('after_approval', approval({ agentId: 'bea' }), reauth, now))).toBe('approval_required');
  expect(reason(() => checkCustomerApproval('after_approval', approval({ usedByReauthId: 'r0' }), reauth, now))).toBe('approval_required');
  const day = approval({
    approvedFor: '24h',
    validUntil: approvalValidUntil('24h', new Date(now.getTime() - 3600_000)),
    usedByReauthId: 'r0',
  });
  expect(reason(() => checkCustomerApproval('after_approval', day, reauth, now))).toBeUndefined();
  const old = approval({ approvedFor: '24h', validUntil: new Date(now.getTime() - 1) });
  expect(reason(() => checkCustomerApproval('after_approval', old, reauth, now))).toBe('approval_expired');
  expect(approvalValidUntil('7d', now)!.getTime() - now.getTime()).toBe(7 * 24 * 3600_000);
  expect(approvalValidUntil('session', now)).toBeNull();
});

test('a session opened after a wait for approval counts its freshness from the approval', () => {
  const limits = { reauthMaxAgeSeconds: 300, sessionMaxSeconds: 3600, maxConcurrentSessions: 3 };
  const base = {
    id: 'r1',
    agentId: 'sam',
    targetId: 'oleg',
    clientId: 'c',
    storeId: 'shop',
    authenticatedAt: new Date(now.getTime() - 600_000),
  };
  expect(reason(() => decideSession(base, undefined, 0, limits, now))).toBe('stale_reauth');
  expect(decideSession({ ...base, approvedAt: new Date(now.getTime() - 10_000) }, undefined, 0, limits, now).kind).toBe('open');
});
