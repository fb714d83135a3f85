/**
 * The login-on-behalf policy as pure functions (no HTTP, no database): who
 * may act for whom, the binding of a re-authentication, when a session opens
 * or continues, how long its tokens live; plus target and scope resolution.
 */
import { TokenExchangeError } from '../../src/token-exchange/errors.js';
import {
  checkAgent,
  checkClientMayActOnBehalf,
  checkReauthBinding,
  checkSessionLimit,
  checkTarget,
  decideSession,
  MAX_ON_BEHALF_TOKEN_SECONDS,
  onBehalfTokenLifetime,
  refusalEndsSession,
  type AgentFacts,
  type OnBehalfLimits,
  type ReauthFacts,
  type SessionFacts,
  type TargetFacts,
} from '../../src/token-exchange/on-behalf-policy.js';
import { decideScope, intersect } from '../../src/token-exchange/scope.js';
import { resolveTarget, type TargetLookup } from '../../src/token-exchange/target.js';

const NOW = new Date('2026-11-24T12:00:00Z');
const ELECTRONICS = 'store-electronics';
const BOOKS = 'store-books';
const AGENT = 'agent-1';
const CUSTOMER = 'customer-1';
const LIMITS: OnBehalfLimits = { reauthMaxAgeSeconds: 300, sessionMaxSeconds: 3600, maxConcurrentSessions: 3 };

const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

function customer(extra: Partial<TargetFacts> = {}): TargetFacts {
  return { id: CUSTOMER, status: 'active', storeId: ELECTRONICS, roles: ['customer'], ...extra };
}
function agent(extra: Partial<AgentFacts> = {}): AgentFacts {
  return { id: AGENT, status: 'active', storeId: null, roles: ['support'], loginOnBehalfStores: [ELECTRONICS], ...extra };
}
function reauth(extra: Partial<ReauthFacts> = {}): ReauthFacts {
  return {
    id: 'reauth-1',
    agentId: AGENT,
    targetId: CUSTOMER,
    clientId: 'storefront-electronics',
    storeId: ELECTRONICS,
    authenticatedAt: NOW,
    ...extra,
  };
}
function session(extra: Partial<SessionFacts> = {}): SessionFacts {
  return { id: 'session-1', expiresAt: at(1800), endedAt: null, ...extra };
}

/** Runs `fn`, which must refuse, and returns the refusal. */
function refusal(fn: () => unknown): TokenExchangeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof TokenExchangeError) return error;
    throw error;
  }
  throw new Error('expected a TokenExchangeError, nothing was thrown');
}

function expectRefusal(fn: () => unknown, code: string, reason: string, description?: RegExp): void {
  const error = refusal(fn);
  expect({ code: error.code, reason: error.reason }).toEqual({ code, reason });
  expect(error.description.length).toBeGreaterThan(10);
  if (description) expect(error.description).toMatch(description);
}

describe('checkClientMayActOnBehalf', () => {
  it('allows a client with an on-behalf policy that serves a store', () => {
    expect(() =>
      checkClientMayActOnBehalf('storefront-electronics', { enabled: true, storeId: ELECTRONICS, tokenTtlSeconds: 600 }),
    ).not.toThrow();
  });

  it('refuses a client without an on-behalf policy, or one that serves no store, as unauthorized_client', () => {
    expectRefusal(
      () => checkClientMayActOnBehalf('orders-api', { enabled: false, storeId: null, tokenTtlSeconds: 600 }),
      'unauthorized_client',
      'client_not_allowed',
      /orders-api is not allowed login on behalf/,
    );
    expectRefusal(
      () => checkClientMayActOnBehalf('storefront-x', { enabled: false, storeId: ELECTRONICS, tokenTtlSeconds: 600 }),
      'unauthorized_client',
      'client_not_allowed',
    );
    expectRefusal(
      () => checkClientMayActOnBehalf('portal', { enabled: true, storeId: null, tokenTtlSeconds: 600 }),
      'unauthorized_client',
      'client_not_allowed',
    );
  });
});

describe('checkTarget', () => {
  it('accepts an active customer of the client’s store and returns it', () => {
    const target = customer();
    expect(checkTarget(target, ELECTRONICS, AGENT, NOW)).toBe(target);
    expect(checkTarget(target, ELECTRONICS, undefined, NOW)).toBe(target);
  });

  it('accepts a customer in a temporary sign-in lockout: it blocks their own sign-in and nothing else', () => {
    // Anyone who knows the email can lock it with wrong passwords; that must not refuse or end an agent's session.
    const lockedOut = { ...customer(), lockedUntil: at(600) };
    expect(checkTarget(lockedOut, ELECTRONICS, AGENT, NOW)).toBe(lockedOut);
    expect(checkTarget(lockedOut, ELECTRONICS, undefined, NOW)).toBe(lockedOut);
  });

  it('refuses an unknown account', () => {
    expectRefusal(() => checkTarget(undefined, ELECTRONICS, AGENT, NOW), 'invalid_request', 'unknown_target', /names no account/);
  });

  it('refuses the agent themselves before anything else', () => {
    expectRefusal(() => checkTarget(customer({ id: AGENT }), ELECTRONICS, AGENT, NOW), 'invalid_request', 'self_target', /themselves/);
    // Also when the agent (a staff account, no store) names their own account.
    expectRefusal(
      () => checkTarget({ id: AGENT, status: 'active', storeId: null, roles: ['support'] }, ELECTRONICS, AGENT, NOW),
      'invalid_request',
      'self_target',
    );
  });

  it('refuses staff and admin accounts, and any account without a store', () => {
    expectRefusal(
      () => checkTarget({ id: 'staff', status: 'active', storeId: null, roles: ['support'] }, ELECTRONICS, AGENT, NOW),
      'invalid_request',
      'privileged_target',
      /staff and admin/,
    );
    expectRefusal(
      () => checkTarget({ id: 'admin', status: 'active', storeId: null, roles: ['admin'] }, ELECTRONICS, AGENT, NOW),
      'invalid_request',
      'privileged_target',
    );
    expectRefusal(
      () => checkTarget({ id: 'odd', status: 'active', storeId: null, roles: ['customer'] }, ELECTRONICS, AGENT, NOW),
      'invalid_request',
      'privileged_target',
    );
    // A store account that also holds a staff role is still privileged.
    expectRefusal(
      () => checkTarget(customer({ roles: ['customer', 'support'] }), ELECTRONICS, AGENT, NOW),
      'invalid_request',
      'privileged_target',
    );
    expectRefusal(() => checkTarget(customer({ roles: ['admin'] }), ELECTRONICS, AGENT, NOW), 'invalid_request', 'privileged_target');
  });

  it('refuses a customer of another store', () => {
    expectRefusal(
      () => checkTarget(customer({ storeId: BOOKS }), ELECTRONICS, AGENT, NOW),
      'invalid_request',
      'target_other_store',
      /another store/,
    );
  });

  it('refuses a store account without the customer role', () => {
    expectRefusal(
      () => checkTarget(customer({ roles: [] }), ELECTRONICS, AGENT, NOW),
      'invalid_request',
      'target_not_customer',
      /customer account/,
    );
  });

  it('refuses a disabled or locked-status customer', () => {
    expectRefusal(
      () => checkTarget(customer({ status: 'disabled' }), ELECTRONICS, AGENT, NOW),
      'invalid_request',
      'target_inactive',
      /not active/,
    );
    expectRefusal(() => checkTarget(customer({ status: 'locked' }), ELECTRONICS, AGENT, NOW), 'invalid_request', 'target_inactive');
  });
});

describe('refusalEndsSession', () => {
  it('ends a running session when the customer is disabled or the agent lost the permission or left', () => {
    for (const reason of ['target_inactive', 'no_permission', 'agent_inactive']) expect(refusalEndsSession(reason)).toBe(true);
  });

  it('keeps it for refusals of the request itself', () => {
    for (const reason of ['reauth_other_target', 'actor_other_client', 'second_factor_required', 'session_limit', 'unknown_target'])
      expect(refusalEndsSession(reason)).toBe(false);
  });
});

describe('checkAgent', () => {
  it('accepts active staff holding the permission for the store, or for every store', () => {
    const sam = agent();
    expect(checkAgent(sam, ELECTRONICS)).toBe(sam);
    expect(checkAgent(agent({ loginOnBehalfStores: [BOOKS, ELECTRONICS] }), ELECTRONICS).id).toBe(AGENT);
    expect(checkAgent(agent({ loginOnBehalfStores: [null] }), BOOKS).id).toBe(AGENT);
    expect(checkAgent(agent({ roles: ['admin'], loginOnBehalfStores: [null] }), BOOKS).id).toBe(AGENT);
  });

  it('refuses an unknown, disabled or locked agent, a store account, or an account without a staff role', () => {
    expectRefusal(() => checkAgent(undefined, ELECTRONICS), 'invalid_request', 'agent_inactive', /not active staff/);
    expectRefusal(() => checkAgent(agent({ status: 'disabled' }), ELECTRONICS), 'invalid_request', 'agent_inactive');
    expectRefusal(() => checkAgent(agent({ status: 'locked' }), ELECTRONICS), 'invalid_request', 'agent_inactive');
    expectRefusal(() => checkAgent(agent({ storeId: ELECTRONICS }), ELECTRONICS), 'invalid_request', 'agent_inactive');
    expectRefusal(() => checkAgent(agent({ roles: ['customer'] }), ELECTRONICS), 'invalid_request', 'agent_inactive');
    expectRefusal(() => checkAgent(agent({ roles: [] }), ELECTRONICS), 'invalid_request', 'agent_inactive');
  });

  it('refuses staff without the permission, or with it for another store only', () => {
    expectRefusal(
      () => checkAgent(agent({ loginOnBehalfStores: [] }), ELECTRONICS),
      'invalid_request',
      'no_permission',
      /security:loginOnBehalf for this store/,
    );
    expectRefusal(() => checkAgent(agent({ loginOnBehalfStores: [BOOKS] }), ELECTRONICS), 'invalid_request', 'no_permission');
  });
});

describe('checkReauthBinding', () => {
  it('accepts the re-authentication made for this target through this client', () => {
    expect(() => checkReauthBinding(reauth(), CUSTOMER, 'storefront-electronics')).not.toThrow();
  });

  it('refuses one made through another client, or for another customer', () => {
    expectRefusal(
      () => checkReauthBinding(reauth({ clientId: 'storefront-books' }), CUSTOMER, 'storefront-electronics'),
      'invalid_request',
      'actor_other_client',
      /another client/,
    );
    expectRefusal(
      () => checkReauthBinding(reauth({ targetId: 'customer-2' }), CUSTOMER, 'storefront-electronics'),
      'invalid_request',
      'reauth_other_target',
      /another customer/,
    );
  });
});

describe('decideSession', () => {
  it('opens a session for a fresh re-authentication, lasting the configured maximum', () => {
    expect(decideSession(reauth(), undefined, 0, LIMITS, NOW)).toEqual({ kind: 'open', expiresAt: at(3600) });
    expect(decideSession(reauth({ authenticatedAt: at(-120) }), undefined, 2, LIMITS, NOW)).toEqual({ kind: 'open', expiresAt: at(3600) });
  });

  it('takes the freshness limit inclusively: exactly reauthMaxAge old still opens, a millisecond more does not', () => {
    expect(decideSession(reauth({ authenticatedAt: at(-300) }), undefined, 0, LIMITS, NOW).kind).toBe('open');
    expectRefusal(
      () => decideSession(reauth({ authenticatedAt: new Date(at(-300).getTime() - 1) }), undefined, 0, LIMITS, NOW),
      'invalid_request',
      'stale_reauth',
      /within 300 s/,
    );
    expectRefusal(
      () => decideSession(reauth({ authenticatedAt: at(-3600) }), undefined, 0, LIMITS, NOW),
      'invalid_request',
      'stale_reauth',
      /3600 s old/,
    );
    // The configured limit is the one applied.
    expectRefusal(
      () => decideSession(reauth({ authenticatedAt: at(-31) }), undefined, 0, { ...LIMITS, reauthMaxAgeSeconds: 30 }, NOW),
      'invalid_request',
      'stale_reauth',
      /within 30 s/,
    );
  });

  it('applies the per-agent limit of concurrent sessions: one below opens, at the limit refuses', () => {
    expect(decideSession(reauth(), undefined, 2, LIMITS, NOW).kind).toBe('open');
    expectRefusal(
      () => decideSession(reauth(), undefined, 3, LIMITS, NOW),
      'invalid_request',
      'session_limit',
      /3 active on-behalf sessions \(limit 3\)/,
    );
    expectRefusal(() => decideSession(reauth(), undefined, 7, LIMITS, NOW), 'invalid_request', 'session_limit');
    expect(decideSession(reauth(), undefined, 0, { ...LIMITS, maxConcurrentSessions: 1 }, NOW).kind).toBe('open');
    expectRefusal(
      () => decideSession(reauth(), undefined, 1, { ...LIMITS, maxConcurrentSessions: 1 }, NOW),
      'invalid_request',
      'session_limit',
    );
  });

  it('continues the re-authentication’s session, however old the re-authentication and whatever the count', () => {
    const open = session();
    expect(decideSession(reauth({ authenticatedAt: at(-3000) }), open, 99, LIMITS, NOW)).toEqual({ kind: 'continue', session: open });
    expect(decideSession(reauth(), session({ expiresAt: new Date(NOW.getTime() + 1) }), 0, LIMITS, NOW).kind).toBe('continue');
  });

  it('never opens a second session for a re-authentication whose session ended or expired', () => {
    expectRefusal(
      () => decideSession(reauth(), session({ endedAt: at(-10) }), 0, LIMITS, NOW),
      'invalid_request',
      'session_ended',
      /re-authenticate/,
    );
    // Ended wins over expired: the trail says what happened first.
    expectRefusal(
      () => decideSession(reauth(), session({ endedAt: at(-10), expiresAt: at(-5) }), 0, LIMITS, NOW),
      'invalid_request',
      'session_ended',
    );
    expectRefusal(
      () => decideSession(reauth(), session({ expiresAt: NOW }), 0, LIMITS, NOW),
      'invalid_request',
      'session_expired',
      /expired/,
    );
    expectRefusal(() => decideSession(reauth(), session({ expiresAt: at(-1) }), 0, LIMITS, NOW), 'invalid_request', 'session_expired');
  });
});

describe('checkSessionLimit', () => {
  it('refuses from the limit on, with the count and the limit in the description', () => {
    expect(() => checkSessionLimit(2, 3)).not.toThrow();
    expectRefusal(() => checkSessionLimit(3, 3), 'invalid_request', 'session_limit', /already has 3 .*limit 3.*end one first/);
  });
});

describe('onBehalfTokenLifetime', () => {
  it('uses the client’s setting when the session lasts longer', () => {
    expect(onBehalfTokenLifetime(600, at(3600), NOW)).toBe(600);
    expect(onBehalfTokenLifetime(30, at(3600), NOW)).toBe(30);
  });

  it('never exceeds 15 minutes, whatever the client asks', () => {
    expect(MAX_ON_BEHALF_TOKEN_SECONDS).toBe(900);
    expect(onBehalfTokenLifetime(900, at(3600), NOW)).toBe(900);
    expect(onBehalfTokenLifetime(901, at(3600), NOW)).toBe(900);
    expect(onBehalfTokenLifetime(86_400, at(86_400), NOW)).toBe(900);
  });

  it('never outlives the session: the remaining whole seconds', () => {
    expect(onBehalfTokenLifetime(600, at(120), NOW)).toBe(120);
    expect(onBehalfTokenLifetime(600, new Date(at(120).getTime() + 999), NOW)).toBe(120);
    expect(onBehalfTokenLifetime(900, at(900), NOW)).toBe(900);
    expect(onBehalfTokenLifetime(900, at(899), NOW)).toBe(899);
    expect(onBehalfTokenLifetime(600, at(1), NOW)).toBe(1);
  });

  it('refuses when less than a second of the session is left', () => {
    expectRefusal(() => onBehalfTokenLifetime(600, new Date(NOW.getTime() + 999), NOW), 'invalid_request', 'session_expired');
    expectRefusal(() => onBehalfTokenLifetime(600, NOW, NOW), 'invalid_request', 'session_expired');
    expectRefusal(() => onBehalfTokenLifetime(600, at(-60), NOW), 'invalid_request', 'session_expired');
  });
});

describe('resolveTarget', () => {
  interface Server {
    id: string;
  }
  const ORDERS = { id: 'http://localhost:4003' };
  const PAYMENTS = { id: 'urn:behalf:demo:payments' };
  const names: Record<string, Server> = {
    'http://localhost:4003': ORDERS,
    'http://localhost:4003/': ORDERS,
    orders: ORDERS,
    'urn:behalf:demo:payments': PAYMENTS,
    payments: PAYMENTS,
  };
  const lookup: TargetLookup<Server> = { find: (value) => names[value], identifier: (server) => server.id };

  it('resolves a resource, an audience, or both naming the same server (also through an alias or another spelling)', () => {
    expect(resolveTarget(['http://localhost:4003'], [], lookup, undefined)).toBe(ORDERS);
    expect(resolveTarget([], ['orders'], lookup, undefined)).toBe(ORDERS);
    expect(resolveTarget(['http://localhost:4003'], ['orders'], lookup, undefined)).toBe(ORDERS);
    expect(resolveTarget(['http://localhost:4003', 'http://localhost:4003/'], ['orders', 'orders'], lookup, PAYMENTS)).toBe(ORDERS);
  });

  it('falls back to the client’s default only when neither is given', () => {
    expect(resolveTarget([], [], lookup, PAYMENTS)).toBe(PAYMENTS);
    expectRefusal(() => resolveTarget([], [], lookup, undefined), 'invalid_target', 'no_target', /resource or audience/);
  });

  it('refuses an unknown resource or audience, naming it (quoted, cut short)', () => {
    expectRefusal(
      () => resolveTarget(['http://localhost:9999'], [], lookup, ORDERS),
      'invalid_target',
      'unknown_resource',
      /"http:\/\/localhost:9999"/,
    );
    expectRefusal(() => resolveTarget([], ['nope'], lookup, ORDERS), 'invalid_target', 'unknown_resource', /"nope"/);
    // One unknown among known ones is still refused.
    expectRefusal(() => resolveTarget(['http://localhost:4003'], ['nope'], lookup, undefined), 'invalid_target', 'unknown_resource');
    const long = refusal(() => resolveTarget([`urn:x:${'a'.repeat(5000)}`], [], lookup, undefined));
    expect(long.description.length).toBeLessThan(300);
  });

  it('refuses a resource and an audience that name two different servers', () => {
    expectRefusal(
      () => resolveTarget(['http://localhost:4003'], ['payments'], lookup, undefined),
      'invalid_target',
      'ambiguous_target',
      /http:\/\/localhost:4003 and urn:behalf:demo:payments/,
    );
    expectRefusal(
      () => resolveTarget(['http://localhost:4003', 'urn:behalf:demo:payments'], [], lookup, undefined),
      'invalid_target',
      'ambiguous_target',
    );
  });

  it('lets the lookup refuse a server the client may not use', () => {
    const strict: TargetLookup<Server> = {
      find: (value) => {
        const server = names[value];
        if (server === PAYMENTS)
          throw new TokenExchangeError('invalid_target', 'this client may not get tokens for payments', 'target_not_allowed');
        return server;
      },
      identifier: (server) => server.id,
    };
    expectRefusal(() => resolveTarget([], ['payments'], strict, ORDERS), 'invalid_target', 'target_not_allowed');
  });
});

describe('decideScope', () => {
  const allowed = ['orders:read', 'orders:write'];

  it('defaults to everything allowed (a copy), and lets the client narrow it', () => {
    const scope = decideScope(undefined, allowed);
    expect(scope).toEqual(allowed);
    expect(scope).not.toBe(allowed);
    expect(decideScope(['orders:read'], allowed)).toEqual(['orders:read']);
    expect(decideScope(['orders:write', 'orders:read'], allowed)).toEqual(['orders:write', 'orders:read']);
  });

  it('refuses anything beyond what is allowed as invalid_scope, naming what was too much', () => {
    expectRefusal(
      () => decideScope(['orders:admin'], allowed),
      'invalid_scope',
      'scope_escalation',
      /orders:admin is beyond .*orders:read orders:write/,
    );
    expectRefusal(
      () => decideScope(['orders:read', 'openid', 'orders:admin'], allowed),
      'invalid_scope',
      'scope_escalation',
      /openid orders:admin/,
    );
    expectRefusal(() => decideScope(['orders:read'], []), 'invalid_scope', 'scope_escalation', /nothing/);
  });

  it('refuses an empty scope, and issues nothing when nothing may be granted', () => {
    expectRefusal(() => decideScope([], allowed), 'invalid_scope', 'empty_scope');
    expectRefusal(() => decideScope(undefined, []), 'invalid_scope', 'no_scope', /no scope/);
  });
});

describe('intersect', () => {
  it('keeps the items of the first list that the second has, in the first list’s order', () => {
    expect(intersect(['orders:write', 'orders:read', 'x'], ['orders:read', 'orders:write'])).toEqual(['orders:write', 'orders:read']);
    expect(intersect(['a'], [])).toEqual([]);
    expect(intersect([], ['a'])).toEqual([]);
  });
});
