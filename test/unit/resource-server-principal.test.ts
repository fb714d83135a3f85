/** toPrincipal: the owner, the current actor (outermost act only), the chain, the doer, scopes, and malformed act. */
import { KitError, toPrincipal } from '../../src/resource-server/index.js';

const base = {
  sub: 'customer-1',
  client_id: 'storefront-electronics',
  scope: 'orders:read orders:write',
  jti: 'token-1',
  exp: 1_900_000_000,
};

describe('toPrincipal', () => {
  it('gives the subject’s own token: no actor, the subject is the doer', () => {
    const principal = toPrincipal(base);
    expect(principal).toEqual({
      subject: 'customer-1',
      actorChain: [],
      clientId: 'storefront-electronics',
      scopes: ['orders:read', 'orders:write'],
      onBehalf: false,
      doer: 'customer-1',
      tokenId: 'token-1',
      expiresAt: new Date(1_900_000_000_000),
    });
    expect('actor' in principal).toBe(false);
    expect('onBehalfSessionId' in principal).toBe(false);
  });

  it('makes the agent the actor and doer of an on-behalf token, with its session', () => {
    const principal = toPrincipal({ ...base, act: { sub: 'agent-1' }, obo_sid: 'session-1' });
    expect(principal).toMatchObject({
      subject: 'customer-1',
      actor: { sub: 'agent-1' },
      actorChain: [{ sub: 'agent-1' }],
      onBehalf: true,
      doer: 'agent-1',
      onBehalfSessionId: 'session-1',
    });
  });

  it('takes only the OUTERMOST act as the actor; nested ones are the earlier actors, in order', () => {
    const principal = toPrincipal({
      ...base,
      act: { sub: 'orders-api', client_id: 'orders-api', act: { sub: 'agent-1', name: 'Sam Support', act: { sub: 'first' } } },
    });
    expect(principal.actor).toEqual({ sub: 'orders-api', clientId: 'orders-api' });
    expect(principal.doer).toBe('orders-api');
    expect(principal.actorChain).toEqual([
      { sub: 'orders-api', clientId: 'orders-api' },
      { sub: 'agent-1', name: 'Sam Support' },
      { sub: 'first' },
    ]);
  });

  it('keeps only string actor fields', () => {
    expect(toPrincipal({ ...base, act: { sub: 'agent-1', client_id: 42, name: { first: 'Sam' }, extra: true } }).actor).toEqual({
      sub: 'agent-1',
    });
  });

  it('splits scopes on spaces and tolerates a missing or non-string scope', () => {
    expect(toPrincipal({ ...base, scope: ' orders:read  orders:write ' }).scopes).toEqual(['orders:read', 'orders:write']);
    expect(toPrincipal({ ...base, scope: undefined }).scopes).toEqual([]);
    expect(toPrincipal({ ...base, scope: ['orders:read'] }).scopes).toEqual([]);
  });

  it('ignores non-string optional claims rather than trusting them', () => {
    const principal = toPrincipal({ sub: 'customer-1', client_id: 7, obo_sid: 12, jti: {}, exp: 'tomorrow' });
    expect(principal.clientId).toBe('');
    expect(principal.onBehalfSessionId).toBeUndefined();
    expect(principal.tokenId).toBeUndefined();
    expect(principal.expiresAt).toBeUndefined();
  });

  it('treats act: null as no actor', () => {
    expect(toPrincipal({ ...base, act: null })).toMatchObject({ onBehalf: false, doer: 'customer-1', actorChain: [] });
  });

  it.each([
    ['no sub', { ...base, sub: undefined }, /no subject/],
    ['an empty sub', { ...base, sub: '' }, /no subject/],
    ['a numeric sub', { ...base, sub: 42 }, /no subject/],
  ])('refuses a token with %s', (_label, claims, message) => {
    expect(() => toPrincipal(claims)).toThrow(message);
  });

  // A token that says someone acts must never pass as the subject's own (doer = subject, not on behalf).
  it.each([
    ['a string', 'agent-1', /act at depth 1 is not an object/],
    ['a number', 1, /act at depth 1 is not an object/],
    ['true', true, /act at depth 1 is not an object/],
    ['an empty string', '', /act at depth 1 is not an object/],
    ['an array', [{ sub: 'agent-1' }], /act at depth 1 is not an object/],
    ['an object without sub', { client_id: 'x' }, /act at depth 1 has no sub/],
    ['an empty sub', { sub: '' }, /act at depth 1 has no sub/],
    ['a numeric sub', { sub: 7 }, /act at depth 1 has no sub/],
    ['a malformed nested act', { sub: 'agent-1', act: 'earlier' }, /act at depth 2 is not an object/],
    ['a nested act without sub', { sub: 'agent-1', act: { act: { sub: 'x' } } }, /act at depth 2 has no sub/],
  ])('refuses an act that is %s with invalid_token', (_label, act, message) => {
    let thrown: unknown;
    try {
      toPrincipal({ ...base, act });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(KitError);
    expect(thrown).toMatchObject({
      code: 'invalid_token',
      status: 401,
      oauthError: 'invalid_token',
      message: expect.stringMatching(message),
    });
  });

  it('refuses an act chain deeper than 16', () => {
    let act: Record<string, unknown> = { sub: 'actor-17' };
    for (let i = 16; i >= 1; i -= 1) act = { sub: `actor-${i}`, act };
    expect(() => toPrincipal({ ...base, act })).toThrow(/deeper than 16/);
    // Exactly 16 is fine.
    let sixteen: Record<string, unknown> = { sub: 'actor-16' };
    for (let i = 15; i >= 1; i -= 1) sixteen = { sub: `actor-${i}`, act: sixteen };
    expect(toPrincipal({ ...base, act: sixteen }).actorChain).toHaveLength(16);
  });
});
