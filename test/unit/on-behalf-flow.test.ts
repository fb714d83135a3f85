/**
 * The login-on-behalf exchange flow (src/token-exchange/on-behalf.ts) run
 * against in-memory implementations of its ports (test/support/in-memory-exchange.ts):
 * no HTTP, no database. What it proves is the flow's part of DESIGN.md's
 * security rules: the session and its `on_behalf.started` record commit in one
 * step before any token exists; a refusal issues nothing and leaves only its
 * denial; a refusal that takes away who may act ends the running session; two
 * first exchanges at once open one session.
 */
import { TOKEN_TYPES } from '../../src/token-exchange/types.js';
import {
  AGENT_ID,
  BOOKS,
  BOOKS_CUSTOMER_ID,
  CUSTOMER_ID,
  ORDERS_API,
  SECOND_CUSTOMER_ID,
  STOREFRONT,
  exchangeWorld,
  refusalOf,
  type ExchangeWorld,
} from '../support/in-memory-exchange.js';

/** What `act` changed: the journal steps and audit records it added, and the tokens it created. */
async function changes(world: ExchangeWorld, act: () => Promise<unknown>) {
  const steps = world.journal.length;
  const events = world.audit.events.length;
  const tokens = world.issuer.committed().length;
  const idTokens = world.issuer.idTokens.length;
  const outcome = await act().then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  );
  return {
    ...outcome,
    steps: world.journal.slice(steps),
    events: world.audit.events.slice(events),
    issued: world.issuer.committed().length - tokens + world.issuer.idTokens.length - idTokens,
  };
}

/** A world in which the agent's first exchange (re-authenticated a minute ago) has opened a session. */
async function runningSession() {
  const world = exchangeWorld();
  const { actorToken } = world.reauthenticate({ at: world.clock.ago(60) });
  await world.onBehalf({ actorToken });
  const [session] = world.store.sessions.values();
  return { world, actorToken, session: session! };
}

describe('login on behalf: the first exchange after a fresh re-authentication', () => {
  it('opens the session together with its on_behalf.started record, and creates the token only after that committed and after its token.issued record', async () => {
    const world = exchangeWorld();
    const { actorToken, reauth } = world.reauthenticate({ at: world.clock.ago(60) });

    const response = await world.onBehalf({ actorToken });

    expect(world.journal).toEqual([
      'store.openSession + on_behalf.started',
      'issuer.prepareAccessToken',
      'audit.record token.issued',
      'issuer.commit',
    ]);
    expect(world.store.sessions.size).toBe(1);
    const [session] = world.store.sessions.values();
    const [started, issued] = world.audit.events;
    expect(started).toMatchObject({
      type: 'on_behalf.started',
      actor: AGENT_ID,
      subject: CUSTOMER_ID,
      clientId: STOREFRONT,
      sessionId: session!.id,
      details: { reason: reauth.reason, ticket: reauth.ticket, audience: ORDERS_API },
    });
    expect(issued).toMatchObject({
      type: 'token.issued',
      sessionId: session!.id,
      details: { mode: 'on_behalf', jti: world.issuer.prepared[0]!.jti },
    });
    expect(response).toMatchObject({
      access_token: world.issuer.committed()[0]!.value,
      issued_token_type: TOKEN_TYPES.accessToken,
      token_type: 'Bearer',
      scope: 'orders:read orders:write',
    });
  });

  it('issues a token whose subject is the customer, whose act is the agent, bound to the session and its grant', async () => {
    const world = exchangeWorld();
    const { actorToken } = world.reauthenticate();

    await world.onBehalf({ actorToken });

    const [session] = world.store.sessions.values();
    expect(world.issuer.prepared[0]!.input).toMatchObject({
      accountId: CUSTOMER_ID,
      clientId: STOREFRONT,
      grantId: session!.grantId,
      claims: { act: { sub: AGENT_ID }, obo_sid: session!.id },
      notAfter: session!.expiresAt,
    });
  });

  it('fails closed when the session cannot be opened: the store’s error propagates, no token is prepared, nothing is recorded', async () => {
    const world = exchangeWorld();
    const { actorToken } = world.reauthenticate();
    const outage = new Error('connection terminated unexpectedly');
    world.store.failNextOpen = outage;

    await expect(world.onBehalf({ actorToken })).rejects.toBe(outage);

    expect(world.issuer.prepared).toEqual([]);
    expect(world.store.sessions.size).toBe(0);
    // Not a refusal, so no denial either: the grant answers 503 (temporarily_unavailable).
    expect(world.audit.events).toEqual([]);
  });

  it('fails closed when the token.issued record cannot be written: the prepared token is never created', async () => {
    const world = exchangeWorld();
    const { actorToken } = world.reauthenticate();
    world.audit.failWhen = (event) => event.type === 'token.issued';

    await expect(world.onBehalf({ actorToken })).rejects.toThrow('audit trail unavailable');

    expect(world.issuer.prepared).toHaveLength(1);
    expect(world.issuer.committed()).toEqual([]);
  });

  it('returns the banner ID token only after its token.issued record, with the agent’s name in act', async () => {
    const world = exchangeWorld();
    const { actorToken } = world.reauthenticate();
    world.audit.failWhen = (event) => event.type === 'token.issued';

    await expect(world.onBehalf({ actorToken, requestedTokenType: TOKEN_TYPES.idToken })).rejects.toThrow('audit trail unavailable');

    world.audit.failWhen = undefined;
    const response = await world.onBehalf({ actorToken, requestedTokenType: TOKEN_TYPES.idToken });
    expect(response).toMatchObject({ issued_token_type: TOKEN_TYPES.idToken, token_type: 'N_A' });
    expect(world.issuer.idTokens.at(-1)).toMatchObject({ accountId: CUSTOMER_ID, claims: { act: { sub: AGENT_ID, name: 'Ada Agent' } } });
    expect(world.journal.slice(-2)).toEqual(['issuer.issueIdToken', 'audit.record token.issued']);
  });
});

describe('login on behalf: a continued exchange within the session', () => {
  it('continues the running session with the same actor token, without a new re-authentication or a second session', async () => {
    const { world, actorToken, session } = await runningSession();
    world.clock.advance(30 * 60); // the re-authentication is long stale by now; the session is not

    const { steps } = await changes(world, () => world.onBehalf({ actorToken }));

    expect(world.store.sessions.size).toBe(1);
    expect(steps).toEqual(['issuer.prepareAccessToken', 'audit.record token.issued', 'issuer.commit']);
    expect(world.issuer.prepared[1]!.input).toMatchObject({
      grantId: session.grantId,
      claims: { obo_sid: session.id },
      notAfter: session.expiresAt,
    });
  });

  it('never lets a token outlive the session: near its end, expires_in is the time left', async () => {
    const { world, actorToken, session } = await runningSession();
    world.clock.advance(3600 - 240); // the session opened at the first exchange: 4 minutes left, while the client gives tokens 10

    const response = await world.onBehalf({ actorToken });

    expect(response.expires_in).toBe(240);
    expect(world.issuer.prepared[1]!.input).toMatchObject({ expiresIn: 240, notAfter: session.expiresAt });
    const created = world.tokens.tokens.get(response.access_token)!;
    expect(created.expiresAt.getTime()).toBeLessThanOrEqual(session.expiresAt.getTime());
  });

  it('gives a token the client’s lifetime while the session has longer to run', async () => {
    const { world, actorToken } = await runningSession();
    world.clock.advance(10 * 60);

    const response = await world.onBehalf({ actorToken });

    expect(response.expires_in).toBe(600);
  });
});

describe('login on behalf: a refusal issues nothing and records only its denial', () => {
  type Case = {
    rule: string;
    reason: string;
    code: string;
    arrange: (world: ExchangeWorld) => Parameters<ExchangeWorld['onBehalf']>[0];
    denial?: { actor?: string; subject?: string | null };
  };
  const cases: Case[] = [
    {
      rule: 'an agent without login on behalf for the customer’s store',
      reason: 'no_permission',
      code: 'invalid_request',
      arrange: (world) => {
        world.accounts.agents.get(AGENT_ID)!.loginOnBehalfStores = [BOOKS];
        return { actorToken: world.reauthenticate().actorToken };
      },
    },
    {
      rule: 'a re-authentication older than reauthMaxAge',
      reason: 'stale_reauth',
      code: 'invalid_request',
      arrange: (world) => ({ actorToken: world.reauthenticate({ at: world.clock.ago(301) }).actorToken }),
    },
    {
      rule: 'a customer of another store than the client’s',
      reason: 'target_other_store',
      code: 'invalid_request',
      arrange: (world) => ({ actorToken: world.reauthenticate({ customerId: BOOKS_CUSTOMER_ID }).actorToken, subject: BOOKS_CUSTOMER_ID }),
      denial: { subject: BOOKS_CUSTOMER_ID },
    },
    {
      rule: 'a disabled customer',
      reason: 'target_inactive',
      code: 'invalid_request',
      arrange: (world) => {
        world.accounts.targets.get(CUSTOMER_ID)!.status = 'disabled';
        return { actorToken: world.reauthenticate().actorToken };
      },
    },
    {
      rule: 'an account the directory does not know',
      reason: 'unknown_target',
      code: 'invalid_request',
      arrange: (world) => ({ actorToken: world.reauthenticate().actorToken, subject: '00000000-0000-4000-8000-0000000000ff' }),
      denial: { subject: null },
    },
    {
      rule: 'a re-authentication that named another customer',
      reason: 'reauth_other_target',
      code: 'invalid_request',
      arrange: (world) => ({ actorToken: world.reauthenticate({ customerId: CUSTOMER_ID }).actorToken, subject: SECOND_CUSTOMER_ID }),
      denial: { subject: SECOND_CUSTOMER_ID },
    },
    {
      rule: 'scope beyond the client’s on-behalf policy',
      reason: 'scope_escalation',
      code: 'invalid_scope',
      arrange: (world) => ({ actorToken: world.reauthenticate().actorToken, scope: ['orders:read', 'orders:delete'] }),
    },
    {
      rule: 'a resource that is no known resource server',
      reason: 'unknown_resource',
      code: 'invalid_target',
      arrange: (world) => ({ actorToken: world.reauthenticate().actorToken, resources: ['https://elsewhere.test/api'] }),
    },
    {
      rule: 'an agent at the limit of concurrent sessions',
      reason: 'session_limit',
      code: 'invalid_request',
      arrange: (world) => {
        for (const n of [1, 2, 3])
          world.store.addSession({
            id: `other-${n}`,
            reauthId: `old-${n}`,
            agentId: AGENT_ID,
            customerId: SECOND_CUSTOMER_ID,
            clientId: STOREFRONT,
            expiresAt: new Date(world.clock.now().getTime() + 600_000),
            endedAt: null,
          });
        return { actorToken: world.reauthenticate().actorToken };
      },
    },
    {
      rule: 'an actor token that expired',
      reason: 'invalid_actor_token',
      code: 'invalid_request',
      arrange: (world) => {
        const { actorToken } = world.reauthenticate({ at: world.clock.ago(120), actorTokenLifetime: 60 });
        return { actorToken };
      },
      denial: { actor: `client:${STOREFRONT}`, subject: null },
    },
  ];

  it.each(cases)('refuses $rule ($reason)', async ({ arrange, reason, code, denial }) => {
    const world = exchangeWorld();
    const request = arrange(world);
    const sessionsBefore = world.store.sessions.size;

    const { error, steps, events, issued } = await changes(world, () => world.onBehalf(request));

    expect(error).toMatchObject({ code, reason });
    expect(issued).toBe(0);
    expect(world.issuer.prepared).toEqual([]);
    expect(world.store.sessions.size).toBe(sessionsBefore);
    expect(world.store.ends).toEqual([]);
    expect(steps).toEqual(['audit.record on_behalf.denied']);
    expect(events[0]).toMatchObject({
      type: 'on_behalf.denied',
      actor: denial?.actor ?? AGENT_ID,
      subject: denial?.subject === undefined ? CUSTOMER_ID : denial.subject,
      clientId: STOREFRONT,
      details: { error: code, reason },
    });
  });

  it('refuses a password-only re-authentication when a second factor is required (second_factor_required)', async () => {
    const world = exchangeWorld({ requireSecondFactor: true });
    const { actorToken } = world.reauthenticate({ amr: ['pwd'] });

    const { error, steps, issued } = await changes(world, () => world.onBehalf({ actorToken }));

    expect(error).toMatchObject({ reason: 'second_factor_required' });
    expect(issued).toBe(0);
    expect(steps).toEqual(['audit.record on_behalf.denied']);
    expect(world.store.sessions.size).toBe(0);
  });

  it('refuses an exchange in an ended session (session_ended), naming the session in the denial', async () => {
    const { world, actorToken, session } = await runningSession();
    world.store.sessions.get(session.id)!.endedAt = world.clock.now();

    const { error, steps, events, issued } = await changes(world, () => world.onBehalf({ actorToken }));

    expect(error).toMatchObject({ reason: 'session_ended' });
    expect(issued).toBe(0);
    expect(steps).toEqual(['audit.record on_behalf.denied']);
    expect(events[0]).toMatchObject({ sessionId: session.id, actor: AGENT_ID, subject: CUSTOMER_ID });
  });

  it('refuses an exchange once the session has run its time (session_expired), without opening another', async () => {
    const { world, actorToken, session } = await runningSession();
    world.clock.advance(3600);

    const { error, steps, events, issued } = await changes(world, () => world.onBehalf({ actorToken }));

    expect(error).toMatchObject({ reason: 'session_expired' });
    expect(issued).toBe(0);
    expect(world.store.sessions.size).toBe(1);
    expect(steps).toEqual(['audit.record on_behalf.denied']);
    expect(events[0]).toMatchObject({ sessionId: session.id });
  });
});

describe('login on behalf: a refusal that takes away who may act ends the running session', () => {
  const revocations: { what: string; reason: string; revoke: (world: ExchangeWorld) => void }[] = [
    {
      what: 'the agent lost login on behalf for the store',
      reason: 'no_permission',
      revoke: (world) => void (world.accounts.agents.get(AGENT_ID)!.loginOnBehalfStores = []),
    },
    {
      what: 'the agent was disabled',
      reason: 'agent_inactive',
      revoke: (world) => void (world.accounts.agents.get(AGENT_ID)!.status = 'disabled'),
    },
    {
      what: 'the customer was disabled',
      reason: 'target_inactive',
      revoke: (world) => void (world.accounts.targets.get(CUSTOMER_ID)!.status = 'disabled'),
    },
  ];

  it.each(revocations)('ends it as system/policy_revoked when $what ($reason), then records the denial', async ({ reason, revoke }) => {
    const { world, actorToken, session } = await runningSession();
    revoke(world);

    const { error, steps, events, issued } = await changes(world, () => world.onBehalf({ actorToken }));

    expect(error).toMatchObject({ reason });
    expect(issued).toBe(0);
    expect(world.store.ends).toEqual([{ id: session.id, by: 'system', reason: 'policy_revoked' }]);
    expect(steps).toEqual(['store.endSession + on_behalf.ended', 'audit.record on_behalf.denied']);
    expect(events[1]).toMatchObject({ type: 'on_behalf.denied', sessionId: session.id, details: { reason } });
    expect(world.store.sessions.get(session.id)!.endedAt).not.toBeNull();
  });

  const harmless: { what: string; reason: string; request: (actorToken: string) => Parameters<ExchangeWorld['onBehalf']>[0] }[] = [
    {
      what: 'scope beyond the client’s policy',
      reason: 'scope_escalation',
      request: (actorToken) => ({ actorToken, scope: ['orders:delete'] }),
    },
    {
      what: 'the session’s actor token sent for a customer of another store',
      reason: 'target_other_store',
      request: (actorToken) => ({ actorToken, subject: BOOKS_CUSTOMER_ID }),
    },
    {
      what: 'the session’s actor token sent for another customer',
      reason: 'reauth_other_target',
      request: (actorToken) => ({ actorToken, subject: SECOND_CUSTOMER_ID }),
    },
  ];

  it.each(harmless)(
    'leaves the session running after a refusal that says nothing about who may act: $what ($reason)',
    async ({ reason, request }) => {
      const { world, actorToken, session } = await runningSession();

      const { error, steps } = await changes(world, () => world.onBehalf(request(actorToken)));

      expect(error).toMatchObject({ reason });
      expect(world.store.ends).toEqual([]);
      expect(steps).toEqual(['audit.record on_behalf.denied']);
      expect(world.store.sessions.get(session.id)!.endedAt).toBeNull();
      await expect(world.onBehalf({ actorToken })).resolves.toMatchObject({ token_type: 'Bearer' });
    },
  );

  it('does not end a session that has already ended', async () => {
    const { world, actorToken, session } = await runningSession();
    world.store.sessions.get(session.id)!.endedAt = world.clock.now();
    world.accounts.targets.get(CUSTOMER_ID)!.status = 'disabled';

    const { error, steps } = await changes(world, () => world.onBehalf({ actorToken }));

    expect(error).toMatchObject({ reason: 'target_inactive' });
    expect(world.store.ends).toEqual([]);
    expect(steps).toEqual(['audit.record on_behalf.denied']);
  });

  it('issues nothing when ending the session fails (the error propagates, no token)', async () => {
    const { world, actorToken } = await runningSession();
    world.accounts.targets.get(CUSTOMER_ID)!.status = 'disabled';
    world.store.endSession = () => Promise.reject(new Error('database unavailable'));

    const { error, issued } = await changes(world, () => world.onBehalf({ actorToken }));

    expect(error).toEqual(new Error('database unavailable'));
    expect(issued).toBe(0);
  });
});

describe('login on behalf: concurrent first exchanges', () => {
  it('opens one session for two first exchanges with the same re-authentication, and binds both tokens to it', async () => {
    const world = exchangeWorld();
    const { actorToken } = world.reauthenticate();

    const [first, second] = await Promise.all([world.onBehalf({ actorToken }), world.onBehalf({ actorToken })]);

    expect(first.access_token).not.toBe(second.access_token);
    expect(world.store.sessions.size).toBe(1);
    const [session] = world.store.sessions.values();
    expect(world.audit.types().filter((type) => type === 'on_behalf.started')).toEqual(['on_behalf.started']);
    expect(world.audit.types().filter((type) => type === 'token.issued')).toHaveLength(2);
    for (const { input } of world.issuer.committed())
      expect(input).toMatchObject({ grantId: session!.grantId, claims: { obo_sid: session!.id } });
  });

  it('refuses the second of two re-authentications of one agent at the limit (session_limit), though both counted room', async () => {
    const world = exchangeWorld({ limits: { maxConcurrentSessions: 3 } });
    for (const n of [1, 2])
      world.store.addSession({
        id: `other-${n}`,
        reauthId: `old-${n}`,
        agentId: AGENT_ID,
        customerId: SECOND_CUSTOMER_ID,
        clientId: STOREFRONT,
        expiresAt: new Date(world.clock.now().getTime() + 600_000),
        endedAt: null,
      });
    const one = world.reauthenticate({ customerId: CUSTOMER_ID });
    const other = world.reauthenticate({ customerId: SECOND_CUSTOMER_ID });

    const outcomes = await Promise.allSettled([
      world.onBehalf({ actorToken: one.actorToken }),
      world.onBehalf({ actorToken: other.actorToken, subject: SECOND_CUSTOMER_ID }),
    ]);

    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    expect(refused?.reason).toMatchObject({ code: 'invalid_request', reason: 'session_limit' });
    expect(world.store.active(AGENT_ID, world.clock.now())).toHaveLength(3);
    expect(world.issuer.committed()).toHaveLength(1);
    expect(world.audit.types().sort()).toEqual(['on_behalf.denied', 'on_behalf.started', 'token.issued']);
  });

  it('refuses a first exchange whose re-authentication’s session ended meanwhile, rather than continuing it', async () => {
    const world = exchangeWorld();
    const { actorToken, reauth } = world.reauthenticate();
    // Between the flow's look-up and its open, a concurrent exchange opened the session and it was ended.
    const lookUp = world.store.reauthByGrant.bind(world.store);
    world.store.reauthByGrant = async (grantId) => {
      const found = await lookUp(grantId);
      world.store.addSession({
        id: 'meanwhile',
        reauthId: reauth.id,
        agentId: AGENT_ID,
        customerId: CUSTOMER_ID,
        clientId: STOREFRONT,
        expiresAt: new Date(world.clock.now().getTime() + 600_000),
        endedAt: world.clock.now(),
      });
      return found;
    };

    const error = await refusalOf(world.onBehalf({ actorToken }));

    expect(error.reason).toBe('session_ended');
    expect(world.issuer.prepared).toEqual([]);
  });
});
