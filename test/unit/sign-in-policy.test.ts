/** The pure sign-in rules: who may sign in through which kind of client, locks and lockout counting. */
import {
  accountScopeFor,
  afterFailedPassword,
  decideSignIn,
  isLocked,
  isStaff,
  type ClientAudience,
  type SignInCandidate,
} from '../../src/accounts/sign-in-policy.js';

const NOW = new Date('2026-11-24T12:00:00Z');
const ELECTRONICS = 'store-electronics';
const BOOKS = 'store-books';

const storefront = (storeId: string): ClientAudience => ({ kind: 'storefront', storeId });
const backoffice: ClientAudience = { kind: 'backoffice' };
const service: ClientAudience = { kind: 'service' };

function customer(storeId: string, extra: Partial<SignInCandidate> = {}): SignInCandidate {
  return { storeId, status: 'active', lockedUntil: null, roles: ['customer'], ...extra };
}
function staff(roles: SignInCandidate['roles'] = ['support'], extra: Partial<SignInCandidate> = {}): SignInCandidate {
  return { storeId: null, status: 'active', lockedUntil: null, roles, ...extra };
}

describe('decideSignIn', () => {
  it("lets a store's customer sign in at that store's client only", () => {
    expect(decideSignIn(storefront(ELECTRONICS), customer(ELECTRONICS), NOW)).toEqual({ ok: true });
    expect(decideSignIn(storefront(BOOKS), customer(ELECTRONICS), NOW)).toEqual({ ok: false, reason: 'wrong_audience' });
    expect(decideSignIn(backoffice, customer(ELECTRONICS), NOW)).toEqual({ ok: false, reason: 'wrong_audience' });
  });

  it('lets staff (support or admin, no store) sign in at back-office clients only', () => {
    expect(decideSignIn(backoffice, staff(['support']), NOW)).toEqual({ ok: true });
    expect(decideSignIn(backoffice, staff(['admin']), NOW)).toEqual({ ok: true });
    expect(decideSignIn(storefront(ELECTRONICS), staff(), NOW)).toEqual({ ok: false, reason: 'wrong_audience' });
  });

  it('refuses back office to an account with a store even if it has a staff role, and storefronts to store accounts without the customer role', () => {
    expect(decideSignIn(backoffice, customer(ELECTRONICS, { roles: ['support'] }), NOW)).toEqual({ ok: false, reason: 'wrong_audience' });
    expect(decideSignIn(backoffice, staff(['customer']), NOW)).toEqual({ ok: false, reason: 'wrong_audience' });
    expect(decideSignIn(storefront(ELECTRONICS), customer(ELECTRONICS, { roles: [] }), NOW)).toEqual({
      ok: false,
      reason: 'wrong_audience',
    });
  });

  it('never signs anyone in through a service client', () => {
    expect(decideSignIn(service, staff(['admin']), NOW)).toEqual({ ok: false, reason: 'wrong_audience' });
    expect(decideSignIn(service, customer(ELECTRONICS), NOW)).toEqual({ ok: false, reason: 'wrong_audience' });
  });

  it('refuses disabled accounts, and says so only for the right audience', () => {
    expect(decideSignIn(storefront(ELECTRONICS), customer(ELECTRONICS, { status: 'disabled' }), NOW)).toEqual({
      ok: false,
      reason: 'disabled',
    });
    expect(decideSignIn(storefront(BOOKS), customer(ELECTRONICS, { status: 'disabled' }), NOW)).toEqual({
      ok: false,
      reason: 'wrong_audience',
    });
  });

  it('refuses locked accounts: status locked, or a lock that has not ended yet', () => {
    expect(decideSignIn(backoffice, staff(['support'], { status: 'locked' }), NOW)).toEqual({ ok: false, reason: 'locked' });
    expect(decideSignIn(backoffice, staff(['support'], { lockedUntil: new Date(NOW.getTime() + 1000) }), NOW)).toEqual({
      ok: false,
      reason: 'locked',
    });
    expect(decideSignIn(backoffice, staff(['support'], { lockedUntil: new Date(NOW.getTime() - 1000) }), NOW)).toEqual({ ok: true });
  });

  it('reports disabled before locked', () => {
    expect(decideSignIn(backoffice, staff(['support'], { status: 'disabled', lockedUntil: new Date(NOW.getTime() + 1000) }), NOW)).toEqual({
      ok: false,
      reason: 'disabled',
    });
  });
});

describe('isLocked', () => {
  it('is true for status locked or a lock ending in the future, false once it has ended', () => {
    expect(isLocked({ status: 'locked', lockedUntil: null }, NOW)).toBe(true);
    expect(isLocked({ status: 'active', lockedUntil: new Date(NOW.getTime() + 1) }, NOW)).toBe(true);
    expect(isLocked({ status: 'active', lockedUntil: NOW }, NOW)).toBe(false);
    expect(isLocked({ status: 'active', lockedUntil: null }, NOW)).toBe(false);
  });
});

describe('accountScopeFor and isStaff', () => {
  it('looks accounts up in the store for storefronts, among store-less accounts for the back office, nowhere for services', () => {
    expect(accountScopeFor(storefront(BOOKS))).toEqual({ storeId: BOOKS });
    expect(accountScopeFor(backoffice)).toEqual({ storeId: null });
    expect(accountScopeFor(service)).toBeUndefined();
  });

  it('counts support and admin as staff, customers not', () => {
    expect(isStaff(['support'])).toBe(true);
    expect(isStaff(['customer', 'admin'])).toBe(true);
    expect(isStaff(['customer'])).toBe(false);
    expect(isStaff([])).toBe(false);
  });
});

describe('afterFailedPassword', () => {
  const policy = { threshold: 3, lockoutSeconds: 900 };

  it('counts failures below the threshold without locking', () => {
    expect(afterFailedPassword(0, policy, NOW)).toEqual({ failedLoginCount: 1, lockedUntil: null });
    expect(afterFailedPassword(1, policy, NOW)).toEqual({ failedLoginCount: 2, lockedUntil: null });
  });

  it('locks for lockoutSeconds at the threshold and resets the counter', () => {
    expect(afterFailedPassword(2, policy, NOW)).toEqual({ failedLoginCount: 0, lockedUntil: new Date(NOW.getTime() + 900_000) });
  });

  it('locks on the first failure with a threshold of one', () => {
    expect(afterFailedPassword(0, { threshold: 1, lockoutSeconds: 60 }, NOW).lockedUntil).toEqual(new Date(NOW.getTime() + 60_000));
  });
});
