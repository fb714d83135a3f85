/** The on-behalf banner's words: time left from the earlier of the session's and the actor token's end. */
import { bannerFor, WARN_MINUTES } from '../../src/demo/storefront/banner.js';
import type { OnBehalfUser } from '../../src/demo/storefront/browser-sessions.js';

const NOW = Date.parse('2026-12-05T10:00:00Z');
const minutes = (n: number) => NOW + n * 60_000;

function user(overrides: Partial<OnBehalfUser> = {}): OnBehalfUser {
  return {
    mode: 'on-behalf',
    customerId: 'c',
    customerName: 'Oleg Petrov',
    agentId: 'a',
    agentName: 'Sam Support',
    sessionId: 's',
    actor: { value: 'actor', expiresAt: minutes(60), lifetimeMs: 3_600_000 },
    orders: { value: 'orders', expiresAt: minutes(5), lifetimeMs: 300_000 },
    // The banner never reads the session's DPoP key.
    dpop: {} as OnBehalfUser['dpop'],
    ordersBound: false,
    statusCheckedAt: NOW,
    ...overrides,
  };
}

describe('bannerFor', () => {
  it('counts down to the session’s end when the actor token lasts longer', () => {
    expect(bannerFor(user({ sessionEndsAt: minutes(42), reason: 'Checkout fails', ticket: 'SUP-1' }), NOW)).toEqual({
      agentName: 'Sam Support',
      customerName: 'Oleg Petrov',
      reason: 'Checkout fails',
      ticket: 'SUP-1',
      minutesLeft: 42,
      endingSoon: false,
    });
  });

  it('counts down to the actor token’s end when that comes first (it cannot be renewed)', () => {
    expect(
      bannerFor(user({ sessionEndsAt: minutes(50), actor: { value: 'actor', expiresAt: minutes(9.5), lifetimeMs: 600_000 } }), NOW)
        .minutesLeft,
    ).toBe(10);
  });

  it(`warns from ${WARN_MINUTES} minutes before the end, rounding up`, () => {
    expect(bannerFor(user({ sessionEndsAt: minutes(WARN_MINUTES) }), NOW).endingSoon).toBe(true);
    expect(bannerFor(user({ sessionEndsAt: minutes(WARN_MINUTES + 0.5) }), NOW).endingSoon).toBe(false);
    expect(bannerFor(user({ sessionEndsAt: minutes(0.2) }), NOW)).toMatchObject({ minutesLeft: 1, endingSoon: true });
    expect(bannerFor(user({ sessionEndsAt: minutes(-1) }), NOW)).toMatchObject({ minutesLeft: 0, endingSoon: true });
  });

  it('leaves out what it does not know', () => {
    const shown = bannerFor(user({ actor: { value: 'actor', expiresAt: Number.POSITIVE_INFINITY, lifetimeMs: 0 } }), NOW);
    expect(shown).toEqual({ agentName: 'Sam Support', customerName: 'Oleg Petrov', endingSoon: false });
  });
});
