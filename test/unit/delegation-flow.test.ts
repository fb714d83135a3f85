/**
 * The delegation exchange flow (src/token-exchange/delegation.ts) run against
 * in-memory implementations of its ports (test/support/in-memory-exchange.ts):
 * no HTTP, no database. The derived token never gets wider scope, another
 * audience or a longer life than its subject token; `act` nests; cycles,
 * chains beyond the limit, a `may_act` naming someone else and a client that is
 * not an audience are refused; `delegation.issued` is recorded before the token
 * exists, and a refusal leaves only `delegation.denied`.
 */
import type { ExchangeClient } from '../../src/token-exchange/ports.js';
import {
  AGENT_ID,
  CUSTOMER_ID,
  INTEGRATOR,
  ORDERS_API,
  SHIPPING_API,
  STOREFRONT,
  VAULT_API,
  exchangeWorld,
  refusalOf,
  type ExchangeWorld,
  type WorldOptions,
} from '../support/in-memory-exchange.js';

const OPS_USER = 'ops-user-7';

/**
 * A world with a running on-behalf session and the storefront's on-behalf token
 * in it (customer as subject, agent as actor, for the orders API, 10 minutes left).
 */
function withOnBehalfToken(options: WorldOptions = {}) {
  const world = exchangeWorld(options);
  const session = world.store.addSession({
    id: 'obs-running',
    reauthId: 'reauth-0',
    agentId: AGENT_ID,
    customerId: CUSTOMER_ID,
    clientId: STOREFRONT,
    expiresAt: new Date(world.clock.now().getTime() + 3600_000),
    endedAt: null,
  });
  const subjectToken = world.givenToken('on-behalf-jwt', { act: { sub: AGENT_ID }, oboSessionId: session.id });
  return { world, session, subjectToken, subject: world.tokens.tokens.get(subjectToken)! };
}

/** A client that may delegate orders tokens on to shipping, but operates nothing (so it is no audience by itself). */
function bystander(world: ExchangeWorld): ExchangeClient {
  return { ...world.integrator, clientId: 'integrator-bystander', operates: [] };
}

const COURIER = 'integrator-courier';

/** A second integrator that operates shipping and may pass orders:read on to the orders API. */
function courier(world: ExchangeWorld): ExchangeClient {
  return {
    ...world.integrator,
    clientId: COURIER,
    operates: [SHIPPING_API],
    delegation: [{ from: 'shipping', to: 'orders', scope: ['orders:read'] }],
  };
}

/** The outcome of `act` and the audit records and tokens it added. */
async function changes(world: ExchangeWorld, act: () => Promise<unknown>) {
  const steps = world.journal.length;
  const events = world.audit.events.length;
  const tokens = world.issuer.committed().length;
  const error = await act().then(
    () => undefined,
    (failure: unknown) => failure,
  );
  return {
    error,
    steps: world.journal.slice(steps),
    events: world.audit.events.slice(events),
    issued: world.issuer.committed().length - tokens,
  };
}

describe('delegation: the derived token is never wider than its subject token', () => {
  it('narrows scope to subject ∩ target ∩ rule and the audience to the one target', async () => {
    const { world, subjectToken } = withOnBehalfToken();

    const response = await world.delegate({ subjectToken });

    expect(response.scope).toBe('orders:read');
    const created = world.tokens.tokens.get(response.access_token)!;
    expect(created.audience).toEqual([SHIPPING_API]);
    expect(created.scope).toEqual(['orders:read']);
    expect(created.subject).toBe(CUSTOMER_ID);
  });

  it.each([
    { asked: 'orders:write', why: 'in the subject token but not in the rule' },
    { asked: 'shipping:write', why: 'accepted by the target but not in the subject token' },
    { asked: 'orders:delete', why: 'in neither' },
  ])('refuses a scope $why ($asked) as invalid_scope', async ({ asked }) => {
    const { world, subjectToken } = withOnBehalfToken();

    const { error, issued } = await changes(world, () => world.delegate({ subjectToken, scope: ['orders:read', asked] }));

    expect(error).toMatchObject({ code: 'invalid_scope', reason: 'scope_escalation' });
    expect(issued).toBe(0);
  });

  it('refuses an audience the client’s rules do not lead to, even one the subject token already had', async () => {
    const { world, subjectToken } = withOnBehalfToken();

    const error = await refusalOf(world.delegate({ subjectToken, resources: [ORDERS_API] }));

    expect(error).toMatchObject({ code: 'invalid_target', reason: 'target_not_delegable' });
    expect(world.issuer.prepared).toEqual([]);
  });

  it('lives as long as the target allows while the subject token lives longer', async () => {
    const { world, subjectToken } = withOnBehalfToken();

    const response = await world.delegate({ subjectToken });

    expect(response.expires_in).toBe(300); // shipping's lifetime; the subject has 600 s left
  });

  it('never outlives the subject token: expires_in is what the subject has left, and its expiry is the cap', async () => {
    const { world, subjectToken, subject } = withOnBehalfToken();
    world.clock.advance(8 * 60); // 120 s left on the subject

    const response = await world.delegate({ subjectToken });

    expect(response.expires_in).toBe(120);
    expect(world.issuer.prepared[0]!.input.notAfter).toEqual(subject.expiresAt);
    expect(world.tokens.tokens.get(response.access_token)!.expiresAt.getTime()).toBeLessThanOrEqual(subject.expiresAt.getTime());
  });

  it('carries the on-behalf session on (obo_sid), so ending the session reaches the derived token', async () => {
    const { world, subjectToken, session } = withOnBehalfToken();

    await world.delegate({ subjectToken });

    expect(world.issuer.prepared[0]!.input.claims.obo_sid).toBe(session.id);
  });
});

describe('delegation: the act chain', () => {
  it('puts the requesting client outermost and nests the agent under it', async () => {
    const { world, subjectToken } = withOnBehalfToken();

    await world.delegate({ subjectToken });

    expect(world.issuer.prepared[0]!.input.claims.act).toEqual({ sub: INTEGRATOR, act: { sub: AGENT_ID } });
  });

  it('makes the user behind the client’s actor token the actor, with the client’s id', async () => {
    const { world, subjectToken } = withOnBehalfToken();
    const actorToken = world.givenToken('ops-user-token', {
      subject: OPS_USER,
      accountId: OPS_USER,
      clientId: INTEGRATOR,
      audience: [INTEGRATOR],
      scope: ['openid'],
    });

    await world.delegate({ subjectToken, actorToken });

    expect(world.issuer.prepared[0]!.input.claims.act).toEqual({ sub: OPS_USER, client_id: INTEGRATOR, act: { sub: AGENT_ID } });
    expect(world.audit.events.at(-1)).toMatchObject({
      type: 'delegation.issued',
      actor: OPS_USER,
      details: { act_chain: [OPS_USER, AGENT_ID] },
    });
  });

  it('nests again when the derived token is itself exchanged, up to the configured depth', async () => {
    const { world, subjectToken } = withOnBehalfToken({ maxChainDepth: 3 });
    const derived = await world.delegate({ subjectToken });

    await world.delegate({ subjectToken: derived.access_token, client: courier(world) });

    expect(world.issuer.prepared[1]!.input.claims.act).toEqual({ sub: COURIER, act: { sub: INTEGRATOR, act: { sub: AGENT_ID } } });
  });

  it('refuses a chain deeper than the limit (chain_too_deep)', async () => {
    const { world, subjectToken } = withOnBehalfToken({ maxChainDepth: 2 });
    const derived = await world.delegate({ subjectToken });

    const error = await refusalOf(world.delegate({ subjectToken: derived.access_token, client: courier(world) }));

    expect(error.reason).toBe('chain_too_deep');
    expect(world.issuer.committed()).toHaveLength(1);
  });

  it('refuses a chain that loops back to an earlier actor (circular_chain)', async () => {
    const { world } = withOnBehalfToken();
    const looped = world.givenToken('looped', { act: { sub: INTEGRATOR, act: { sub: AGENT_ID } } });

    const error = await refusalOf(world.delegate({ subjectToken: looped }));

    expect(error).toMatchObject({ code: 'invalid_request', reason: 'circular_chain' });
    expect(world.issuer.prepared).toEqual([]);
  });

  it('refuses an actor who is the subject itself (circular_chain)', async () => {
    const { world, subjectToken } = withOnBehalfToken();
    const customerAtIntegrator = world.givenToken('customer-at-integrator', {
      clientId: INTEGRATOR,
      audience: [INTEGRATOR],
      scope: ['openid'],
    });

    const error = await refusalOf(world.delegate({ subjectToken, actorToken: customerAtIntegrator }));

    expect(error.reason).toBe('circular_chain');
  });
});

describe('delegation: who may exchange the subject token', () => {
  it('refuses a client that is not an audience of the subject token (not_audience)', async () => {
    const { world, subjectToken } = withOnBehalfToken();

    const error = await refusalOf(world.delegate({ subjectToken, client: bystander(world) }));

    expect(error).toMatchObject({ code: 'invalid_request', reason: 'not_audience' });
    expect(world.issuer.prepared).toEqual([]);
  });

  it('accepts a client that is no audience when the subject token’s may_act names it', async () => {
    const { world } = withOnBehalfToken();
    const client = bystander(world);
    const subjectToken = world.givenToken('may-act-bystander', { mayAct: { sub: client.clientId } });

    await expect(world.delegate({ subjectToken, client })).resolves.toMatchObject({ token_type: 'Bearer' });
  });

  it('refuses an actor other than the one may_act names, even an audience (may_act_violation)', async () => {
    const { world } = withOnBehalfToken();
    const subjectToken = world.givenToken('may-act-other', { mayAct: { sub: 'integrator-elsewhere' } });

    const error = await refusalOf(world.delegate({ subjectToken }));

    expect(error.reason).toBe('may_act_violation');
    expect(world.issuer.prepared).toEqual([]);
  });

  it('refuses an actor token issued to another client (actor_other_client)', async () => {
    const { world, subjectToken } = withOnBehalfToken();
    const foreign = world.givenToken('foreign-actor', {
      subject: OPS_USER,
      accountId: OPS_USER,
      clientId: 'integrator-elsewhere',
      audience: [],
      scope: [],
    });

    const error = await refusalOf(world.delegate({ subjectToken, actorToken: foreign }));

    expect(error.reason).toBe('actor_other_client');
  });
});

describe('delegation: the audit record comes first; a refusal leaves only its denial', () => {
  it('records delegation.issued after preparing the token and before creating it', async () => {
    const { world, subjectToken, session } = withOnBehalfToken();

    const response = await world.delegate({ subjectToken });

    expect(world.journal).toEqual(['issuer.prepareAccessToken', 'audit.record delegation.issued', 'issuer.commit']);
    const [issued] = world.audit.events;
    expect(issued).toMatchObject({
      type: 'delegation.issued',
      actor: `client:${INTEGRATOR}`,
      subject: CUSTOMER_ID,
      clientId: INTEGRATOR,
      sessionId: session.id,
      details: {
        mode: 'delegation',
        audience: SHIPPING_API,
        scope: 'orders:read',
        expires_in: response.expires_in,
        jti: world.issuer.prepared[0]!.jti,
        act_chain: [INTEGRATOR, AGENT_ID],
      },
    });
  });

  it('creates no token when delegation.issued cannot be recorded; the failure propagates (a 503), not as a denial', async () => {
    const { world, subjectToken } = withOnBehalfToken();
    world.audit.failWhen = (event) => event.type === 'delegation.issued';

    await expect(world.delegate({ subjectToken })).rejects.toThrow('audit trail unavailable');

    expect(world.issuer.committed()).toEqual([]);
    expect(world.audit.events).toEqual([]);
  });

  type Refusal = {
    rule: string;
    reason: string;
    arrange: (world: ExchangeWorld, session: { id: string }) => Parameters<ExchangeWorld['delegate']>[0];
    denial: { subject: string | null; sessionId: string | null };
  };
  const refusals: Refusal[] = [
    {
      rule: 'a subject token whose on-behalf session has ended',
      reason: 'session_ended',
      arrange: (world, session) => {
        world.store.sessions.get(session.id)!.endedAt = world.clock.now();
        return { subjectToken: 'on-behalf-jwt' };
      },
      denial: { subject: CUSTOMER_ID, sessionId: 'obs-running' },
    },
    {
      rule: 'a subject token that expired',
      reason: 'invalid_subject_token',
      arrange: (world) => {
        world.clock.advance(601);
        return { subjectToken: 'on-behalf-jwt' };
      },
      denial: { subject: null, sessionId: null },
    },
    {
      rule: 'a client that is no audience',
      reason: 'not_audience',
      arrange: (world) => ({ subjectToken: 'on-behalf-jwt', client: bystander(world) }),
      denial: { subject: CUSTOMER_ID, sessionId: 'obs-running' },
    },
    {
      rule: 'scope beyond the subject token',
      reason: 'scope_escalation',
      arrange: () => ({ subjectToken: 'on-behalf-jwt', scope: ['shipping:write'] }),
      denial: { subject: CUSTOMER_ID, sessionId: 'obs-running' },
    },
    {
      rule: 'an unknown resource',
      reason: 'unknown_resource',
      arrange: () => ({ subjectToken: 'on-behalf-jwt', resources: ['https://elsewhere.test'] }),
      denial: { subject: CUSTOMER_ID, sessionId: 'obs-running' },
    },
  ];

  it.each(refusals)('refuses $rule ($reason) with delegation.denied as its only record', async ({ reason, arrange, denial }) => {
    const { world, session } = withOnBehalfToken();
    const request = arrange(world, session);
    const client = request.client ?? world.integrator;

    const { error, steps, events, issued } = await changes(world, () => world.delegate(request));

    expect(error).toMatchObject({ reason });
    expect(issued).toBe(0);
    expect(world.issuer.prepared).toEqual([]);
    expect(steps).toEqual(['audit.record delegation.denied']);
    expect(events[0]).toMatchObject({
      type: 'delegation.denied',
      actor: `client:${client.clientId}`,
      clientId: client.clientId,
      ...denial,
      details: { reason },
    });
  });
});

describe('delegation: the client’s default resource (`default_resource`) when no target is named', () => {
  /** The integrator's rules lead orders tokens to shipping and to the vault: two targets. */
  function twoTargets(world: ExchangeWorld, defaultResource?: string): ExchangeClient {
    return {
      ...world.integrator,
      delegation: [
        { from: 'orders', to: 'shipping', scope: ['orders:read'] },
        { from: 'orders', to: VAULT_API, scope: ['orders:read'] },
      ],
      ...(defaultResource ? { defaultResource } : {}),
    };
  }

  it('settles a choice between several targets', async () => {
    const { world, subjectToken } = withOnBehalfToken();

    const response = await world.delegate({ subjectToken, client: twoTargets(world, VAULT_API) });

    expect(world.tokens.tokens.get(response.access_token)!.audience).toEqual([VAULT_API]);
  });

  it('without a default, several targets stay ambiguous', async () => {
    const { world, subjectToken } = withOnBehalfToken();

    const error = await refusalOf(world.delegate({ subjectToken, client: twoTargets(world) }));

    expect(error).toMatchObject({ code: 'invalid_target', reason: 'ambiguous_delegation' });
  });

  it('a default the rules do not allow for this token leaves the rules’ only target', async () => {
    const { world, subjectToken } = withOnBehalfToken();

    const response = await world.delegate({ subjectToken, client: { ...world.integrator, defaultResource: ORDERS_API } });

    expect(world.tokens.tokens.get(response.access_token)!.audience).toEqual([SHIPPING_API]);
  });

  it('a named target wins over the default', async () => {
    const { world, subjectToken } = withOnBehalfToken();

    const response = await world.delegate({ subjectToken, client: twoTargets(world, VAULT_API), audiences: ['shipping'] });

    expect(world.tokens.tokens.get(response.access_token)!.audience).toEqual([SHIPPING_API]);
  });
});
