/**
 * The delegation policy as pure functions (no HTTP, no database): declared
 * token types, session liveness, intended audience, the actor and may_act,
 * act nesting with cycle and depth limits, rules and targets, scope,
 * lifetime, and which grant a derived token joins.
 */
import {
  actorIdentity,
  applicableRules,
  checkClientMayDelegate,
  checkDeclaredType,
  checkIntendedAudience,
  checkMayAct,
  checkSubjectSession,
  defaultDelegationTarget,
  delegationLifetime,
  delegationScope,
  derivedGrant,
  nestAct,
  rulesForTarget,
} from '../../src/token-exchange/delegation-policy.js';
import { TokenExchangeError } from '../../src/token-exchange/errors.js';
import type { DelegationRule, PresentedToken, ResourceTarget } from '../../src/token-exchange/ports.js';
import { TOKEN_TYPES } from '../../src/token-exchange/types.js';

const NOW = new Date('2026-11-24T12:00:00Z');
const ORDERS = 'http://localhost:4003';
const PAYMENTS = 'urn:behalf:demo:payments';
const SHIPPING = 'urn:test:shipping';
const ALIASES: Record<string, string> = { orders: ORDERS, [`${ORDERS}/`]: ORDERS, payments: PAYMENTS, shipping: SHIPPING };
const canonical = (value: string) => ALIASES[value] ?? value;

const payments: ResourceTarget = { identifier: PAYMENTS, scopes: ['orders:read', 'orders:write'], format: 'jwt' };
const vault: ResourceTarget = { identifier: 'urn:test:vault', scopes: ['orders:read', 'orders:write'], format: 'opaque' };

function token(extra: Partial<PresentedToken> = {}): PresentedToken {
  return {
    format: 'jwt',
    subject: 'customer-1',
    accountId: 'customer-1',
    clientId: 'storefront-electronics',
    audience: [ORDERS],
    scope: ['orders:read', 'orders:write'],
    expiresAt: new Date(NOW.getTime() + 600_000),
    act: { sub: 'agent-1' },
    jti: 'jti-1',
    ...extra,
  };
}

/** The refusal `fn` throws: its OAuth code and audit reason. */
function refusal(fn: () => unknown): { code: string; reason: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof TokenExchangeError) return { code: error.code, reason: error.reason };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('the client and the declared token types', () => {
  it('refuses delegation to a client without rules as unauthorized_client', () => {
    expect(refusal(() => checkClientMayDelegate('storefront-electronics', []))).toEqual({
      code: 'unauthorized_client',
      reason: 'client_not_allowed',
    });
    expect(() => checkClientMayDelegate('orders-api', [{ from: ORDERS, to: PAYMENTS }])).not.toThrow();
  });

  it('accepts access_token for either format, jwt only for a JWT, and nothing else', () => {
    expect(() => checkDeclaredType('subject_token', TOKEN_TYPES.accessToken, token({ format: 'opaque' }))).not.toThrow();
    expect(() => checkDeclaredType('subject_token', TOKEN_TYPES.accessToken, token())).not.toThrow();
    expect(() => checkDeclaredType('subject_token', TOKEN_TYPES.jwt, token())).not.toThrow();
    expect(refusal(() => checkDeclaredType('subject_token', TOKEN_TYPES.jwt, token({ format: 'opaque' })))).toEqual({
      code: 'invalid_request',
      reason: 'subject_token_type_mismatch',
    });
    expect(refusal(() => checkDeclaredType('actor_token', TOKEN_TYPES.idToken))).toEqual({
      code: 'invalid_request',
      reason: 'unsupported_actor_token_type',
    });
    expect(refusal(() => checkDeclaredType('actor_token', undefined))).toEqual({
      code: 'invalid_request',
      reason: 'unsupported_actor_token_type',
    });
  });
});

describe('checkSubjectSession', () => {
  const later = new Date(NOW.getTime() + 60_000);
  it('ignores tokens without an on-behalf session and accepts a running one', () => {
    expect(() => checkSubjectSession(undefined, undefined, NOW)).not.toThrow();
    expect(() => checkSubjectSession('s-1', { endedAt: null, expiresAt: later }, NOW)).not.toThrow();
  });
  it('refuses an unknown, ended or expired session', () => {
    expect(refusal(() => checkSubjectSession('s-1', undefined, NOW)).reason).toBe('unknown_session');
    expect(refusal(() => checkSubjectSession('s-1', { endedAt: NOW, expiresAt: later }, NOW))).toEqual({
      code: 'invalid_request',
      reason: 'session_ended',
    });
    expect(refusal(() => checkSubjectSession('s-1', { endedAt: null, expiresAt: NOW }, NOW))).toEqual({
      code: 'invalid_request',
      reason: 'session_expired',
    });
  });
});

describe('checkIntendedAudience', () => {
  it('accepts the client by id in aud, by a resource server it operates (however spelled), or by may_act', () => {
    expect(() =>
      checkIntendedAudience(token({ audience: ['orders-api'] }), { clientId: 'orders-api', operates: [] }, canonical),
    ).not.toThrow();
    expect(() => checkIntendedAudience(token(), { clientId: 'orders-api', operates: [ORDERS] }, canonical)).not.toThrow();
    expect(() =>
      checkIntendedAudience(token({ audience: [`${ORDERS}/`] }), { clientId: 'orders-api', operates: ['orders'] }, canonical),
    ).not.toThrow();
    expect(() =>
      checkIntendedAudience(token({ mayAct: { sub: 'payments-svc' } }), { clientId: 'payments-svc', operates: [] }, canonical),
    ).not.toThrow();
  });
  it('refuses any other client with invalid_request', () => {
    expect(refusal(() => checkIntendedAudience(token(), { clientId: 'payments-svc', operates: [PAYMENTS] }, canonical))).toEqual({
      code: 'invalid_request',
      reason: 'not_audience',
    });
    expect(
      refusal(() => checkIntendedAudience(token({ audience: [] }), { clientId: 'orders-api', operates: [ORDERS] }, canonical)).reason,
    ).toBe('not_audience');
  });
});

describe('actorIdentity and may_act', () => {
  it('is the requesting client without an actor token or with its own client token', () => {
    expect(actorIdentity('orders-api', undefined)).toEqual({ sub: 'orders-api' });
    expect(
      actorIdentity('orders-api', token({ subject: 'orders-api', accountId: undefined, clientId: 'orders-api', act: undefined })),
    ).toEqual({ sub: 'orders-api' });
  });
  it('names the user behind an actor token issued to the client, with the client id', () => {
    expect(actorIdentity('orders-api', token({ subject: 'operator-7', clientId: 'orders-api', act: undefined }))).toEqual({
      sub: 'operator-7',
      client_id: 'orders-api',
    });
  });
  it('refuses an actor token of another client, or one that is itself delegated', () => {
    expect(refusal(() => actorIdentity('orders-api', token({ clientId: 'integrator-demo', act: undefined })))).toEqual({
      code: 'invalid_request',
      reason: 'actor_other_client',
    });
    expect(refusal(() => actorIdentity('orders-api', token({ clientId: 'orders-api' })))).toEqual({
      code: 'invalid_request',
      reason: 'actor_delegated',
    });
  });
  it('enforces may_act when present', () => {
    expect(() => checkMayAct(token(), { sub: 'anyone' })).not.toThrow();
    expect(() => checkMayAct(token({ mayAct: { sub: 'orders-api' } }), { sub: 'orders-api' })).not.toThrow();
    expect(refusal(() => checkMayAct(token({ mayAct: { sub: 'orders-api' } }), { sub: 'orders-replica' }))).toEqual({
      code: 'invalid_request',
      reason: 'may_act_violation',
    });
  });
});

describe('nestAct (RFC 8693 §4.1)', () => {
  it('puts the new actor outermost and keeps the whole previous chain nested', () => {
    const subject = token({ act: { sub: 'orders-api', act: { sub: 'agent-1' } } });
    expect(nestAct({ sub: 'payments-svc' }, subject, 4)).toEqual({
      sub: 'payments-svc',
      act: { sub: 'orders-api', act: { sub: 'agent-1' } },
    });
    expect(nestAct({ sub: 'orders-api' }, token({ act: undefined }), 4)).toEqual({ sub: 'orders-api' });
  });
  it('drops unregistered members of earlier actors', () => {
    const subject = token({ act: { sub: 'agent-1', name: 'Sam Support' } });
    expect(nestAct({ sub: 'orders-api' }, subject, 4)).toEqual({ sub: 'orders-api', act: { sub: 'agent-1' } });
  });
  it('refuses a cycle: an earlier actor (by sub or client_id) or the subject acting again', () => {
    const subject = token({ act: { sub: 'payments-svc', act: { sub: 'orders-api', act: { sub: 'agent-1' } } } });
    expect(refusal(() => nestAct({ sub: 'orders-api' }, subject, 10))).toEqual({ code: 'invalid_request', reason: 'circular_chain' });
    expect(refusal(() => nestAct({ sub: 'operator-7', client_id: 'orders-api' }, subject, 10)).reason).toBe('circular_chain');
    expect(refusal(() => nestAct({ sub: 'customer-1' }, subject, 10)).reason).toBe('circular_chain');
    expect(refusal(() => nestAct({ sub: 'integrator-demo' }, token({ subject: 'integrator-demo', act: undefined }), 10)).reason).toBe(
      'circular_chain',
    );
  });
  it('refuses a chain deeper than the limit', () => {
    const subject = token({ act: { sub: 'b', act: { sub: 'a' } } });
    expect(nestAct({ sub: 'c' }, subject, 3)).toMatchObject({ sub: 'c' });
    expect(refusal(() => nestAct({ sub: 'c' }, subject, 2))).toEqual({ code: 'invalid_request', reason: 'chain_too_deep' });
  });
});

describe('rules and the target', () => {
  const rules: DelegationRule[] = [
    { from: 'orders', to: 'payments' },
    { from: PAYMENTS, to: SHIPPING, scope: ['orders:read'] },
  ];
  it('applies the rules whose from is in the subject audience, by URI or alias', () => {
    expect(applicableRules(rules, [`${ORDERS}/`], canonical)).toEqual([rules[0]]);
    expect(applicableRules(rules, ['somewhere-else'], canonical)).toEqual([]);
  });
  it('defaults to the only target the applicable rules allow, else says what to name', () => {
    expect(defaultDelegationTarget('orders-api', [rules[0]!], canonical)).toBe(PAYMENTS);
    expect(refusal(() => defaultDelegationTarget('orders-api', [], canonical))).toEqual({
      code: 'invalid_target',
      reason: 'no_delegation_rule',
    });
    expect(refusal(() => defaultDelegationTarget('orders-api', rules, canonical))).toEqual({
      code: 'invalid_target',
      reason: 'ambiguous_delegation',
    });
  });
  it('allows a target only as the to of an applicable rule', () => {
    expect(rulesForTarget('orders-api', [rules[0]!], payments, canonical)).toEqual([rules[0]]);
    expect(refusal(() => rulesForTarget('orders-api', [rules[1]!], payments, canonical))).toEqual({
      code: 'invalid_target',
      reason: 'target_not_delegable',
    });
  });
});

describe('delegationScope', () => {
  it('defaults to subject scope ∩ target scopes ∩ rule scope', () => {
    expect(delegationScope(undefined, ['orders:read', 'orders:write', 'profile'], payments, [{ from: ORDERS, to: PAYMENTS }])).toEqual([
      'orders:read',
      'orders:write',
    ]);
    expect(
      delegationScope(undefined, ['orders:read', 'orders:write'], payments, [{ from: ORDERS, to: PAYMENTS, scope: ['orders:read'] }]),
    ).toEqual(['orders:read']);
  });
  it('lets a rule without scope leave the scope unnarrowed when several rules apply', () => {
    expect(
      delegationScope(undefined, ['orders:write'], payments, [
        { from: ORDERS, to: PAYMENTS, scope: ['orders:read'] },
        { from: 'x', to: PAYMENTS },
      ]),
    ).toEqual(['orders:write']);
  });
  it('narrows on request and refuses anything wider as invalid_scope', () => {
    expect(delegationScope(['orders:read'], ['orders:read', 'orders:write'], payments, [{ from: ORDERS, to: PAYMENTS }])).toEqual([
      'orders:read',
    ]);
    expect(refusal(() => delegationScope(['orders:write'], ['orders:read'], payments, [{ from: ORDERS, to: PAYMENTS }]))).toEqual({
      code: 'invalid_scope',
      reason: 'scope_escalation',
    });
    expect(
      refusal(() =>
        delegationScope(['orders:write'], ['orders:read', 'orders:write'], payments, [
          { from: ORDERS, to: PAYMENTS, scope: ['orders:read'] },
        ]),
      ).reason,
    ).toBe('scope_escalation');
  });
  it('refuses an empty result', () => {
    expect(refusal(() => delegationScope(undefined, ['profile'], payments, [{ from: ORDERS, to: PAYMENTS }]))).toEqual({
      code: 'invalid_scope',
      reason: 'no_scope',
    });
  });
});

describe('delegationLifetime', () => {
  it('is the target lifetime, never past the subject token', () => {
    expect(delegationLifetime(600, new Date(NOW.getTime() + 3_600_000), NOW)).toBe(600);
    expect(delegationLifetime(600, new Date(NOW.getTime() + 42_500), NOW)).toBe(42);
  });
  it('refuses a subject that expires within the second', () => {
    expect(refusal(() => delegationLifetime(600, new Date(NOW.getTime() + 500), NOW))).toEqual({
      code: 'invalid_request',
      reason: 'subject_expired',
    });
  });
});

describe('derivedGrant', () => {
  it('joins no grant for a JWT target or a JWT subject', () => {
    expect(derivedGrant(token({ format: 'opaque', grantId: 'g-1' }), 'orders-api', payments)).toBeUndefined();
    expect(derivedGrant(token(), 'orders-api', vault)).toBeUndefined();
  });
  it('shares an opaque subject’s grant when it is the requesting client’s for the same subject', () => {
    expect(derivedGrant(token({ format: 'opaque', grantId: 'g-1', clientId: 'storefront-books' }), 'storefront-books', vault)).toBe('g-1');
  });
  it('refuses an opaque token that revoking its opaque subject could not reach', () => {
    expect(refusal(() => derivedGrant(token({ format: 'opaque', grantId: 'g-1' }), 'orders-api', vault))).toEqual({
      code: 'invalid_target',
      reason: 'target_not_revocable',
    });
    expect(
      refusal(() =>
        derivedGrant(
          token({ format: 'opaque', subject: 'ledger-client', accountId: undefined, clientId: 'ledger-client' }),
          'ledger-client',
          vault,
        ),
      ).reason,
    ).toBe('target_not_revocable');
  });
});
