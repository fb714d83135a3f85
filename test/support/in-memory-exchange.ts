/**
 * The token-exchange flows' ports in memory (after ory/fosite: flows tested
 * against in-memory implementations of their ports, besides the HTTP tests).
 * Each fake keeps the promise its port makes in src/server:
 * - the session store opens a session and writes its audit event in one step
 *   (one "transaction": both or neither), takes one agent's opens in turn and
 *   checks again under that lock (as the SQL advisory lock does), and can be
 *   made to fail;
 * - the audit log records events and can be made to throw;
 * - the issuer prepares a token and creates it only at `commit()`;
 * - every write and issuance step goes into one `journal`, so a test can
 *   assert their order.
 * `exchangeWorld()` builds the world: an agent, customers, two stores, a
 * storefront client, an integrator client, resource servers and a clock.
 */
import type { AuditEventInput } from '../../src/audit/index.js';
import { exchangeDelegation, type DelegationDeps } from '../../src/token-exchange/delegation.js';
import type { SessionState } from '../../src/token-exchange/delegation-policy.js';
import { TokenExchangeError, invalidRequest } from '../../src/token-exchange/errors.js';
import {
  exchangeOnBehalf,
  type DenialContext,
  type ExchangeResponse,
  type OnBehalfExchangeDeps,
  type RequestContext,
} from '../../src/token-exchange/on-behalf.js';
import { checkSessionLimit, type OnBehalfLimits } from '../../src/token-exchange/on-behalf-policy.js';
import type {
  AccountDirectory,
  AgentAccount,
  Audit,
  ExchangeClient,
  IssueAccessToken,
  OnBehalfSession,
  OnBehalfSessions,
  PreparedToken,
  PresentedToken,
  ReauthRecord,
  ResourceTarget,
  TargetAccount,
  Targets,
  TokenIssuer,
  TokenReader,
} from '../../src/token-exchange/ports.js';
import { TOKEN_TYPES, type ActClaim, type MayActClaim, type TokenExchangeRequest } from '../../src/token-exchange/types.js';

export const T0 = new Date('2026-11-24T12:00:00Z');
export const ELECTRONICS = 'store-electronics';
export const BOOKS = 'store-books';
export const ORDERS_API = 'http://orders.test';
export const SHIPPING_API = 'urn:test:shipping';
export const VAULT_API = 'urn:test:vault';

/** One round trip's worth of waiting: lets concurrent flows interleave as they would on a database. */
const roundTrip = () => new Promise<void>((resolve) => setImmediate(resolve));

export class TestClock {
  private current: Date;
  constructor(start: Date = T0) {
    this.current = new Date(start);
  }
  now(): Date {
    return new Date(this.current);
  }
  advance(seconds: number): void {
    this.current = new Date(this.current.getTime() + seconds * 1000);
  }
  ago(seconds: number): Date {
    return new Date(this.current.getTime() - seconds * 1000);
  }
}

/** The audit trail. `failWhen` makes `record` throw for matching events (the trail is down). */
export class InMemoryAudit implements Audit {
  readonly events: AuditEventInput[] = [];
  failWhen: ((event: AuditEventInput) => boolean) | undefined;

  constructor(private readonly journal: string[]) {}

  async record(event: AuditEventInput): Promise<unknown> {
    await roundTrip();
    if (this.failWhen?.(event)) throw new Error(`audit trail unavailable (${event.type})`);
    this.events.push(event);
    this.journal.push(`audit.record ${event.type}`);
    return undefined;
  }

  /** A record written by another port inside its own transaction (it commits with what it records). */
  commitWith(step: string, event: AuditEventInput): void {
    this.events.push(event);
    this.journal.push(`${step} + ${event.type}`);
  }

  types(): string[] {
    return this.events.map((event) => event.type);
  }
}

export class InMemoryAccounts implements AccountDirectory {
  readonly agents = new Map<string, AgentAccount>();
  readonly targets = new Map<string, TargetAccount>();

  async agent(id: string) {
    await roundTrip();
    return this.agents.get(id);
  }
  async target(id: string) {
    await roundTrip();
    return this.targets.get(id);
  }
  async pair(agentId: string, targetId: string) {
    await roundTrip();
    return { agent: this.agents.get(agentId), target: this.targets.get(targetId) };
  }
}

/** Tokens Behalf issued, by value; like OidcTokenReader, expired ones are not found. */
export class InMemoryTokens implements TokenReader {
  readonly tokens = new Map<string, PresentedToken>();
  constructor(private readonly clock: TestClock) {}

  add(value: string, token: PresentedToken): string {
    this.tokens.set(value, token);
    return value;
  }

  async read(value: string): Promise<PresentedToken | undefined> {
    await roundTrip();
    const token = this.tokens.get(value);
    return token && token.expiresAt > this.clock.now() ? token : undefined;
  }
}

export interface StoredSession extends OnBehalfSession {
  reauthId: string;
  endedBy: string | null;
  endReason: string | null;
}

/**
 * Re-authentications and sessions. Like OnBehalfRepository: `openSession`
 * takes one agent's opens in turn, continues a session the same re-auth opened
 * meanwhile, re-checks the per-agent limit, and commits the session together
 * with its `on_behalf.started` event; `endSession` ends and audits together.
 */
export class InMemoryOnBehalfSessions implements OnBehalfSessions {
  readonly reauths = new Map<string, ReauthRecord>();
  readonly sessions = new Map<string, StoredSession>();
  readonly ends: { id: string; by: string; reason: string }[] = [];
  /** The next `openSession` fails (the database or the audit write inside it) and commits nothing. */
  failNextOpen: Error | undefined;
  /** Set to false only to see the race test fail: opens then no longer take turns. */
  serialiseOpens = true;
  private sequence = 0;
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly audit: InMemoryAudit,
    private readonly clock: TestClock,
    private readonly options: { maxConcurrentSessions?: number } = {},
  ) {}

  addReauth(grantId: string, reauth: ReauthRecord): void {
    this.reauths.set(grantId, reauth);
  }

  /** A session opened earlier (outside the flow under test). */
  addSession(session: Omit<StoredSession, 'endedBy' | 'endReason' | 'grantId'> & { grantId?: string }): StoredSession {
    const stored: StoredSession = { endedBy: null, endReason: null, grantId: `grant-${session.id}`, ...session };
    this.sessions.set(stored.id, stored);
    return stored;
  }

  async reauthByGrant(grantId: string) {
    await roundTrip();
    const reauth = this.reauths.get(grantId);
    if (!reauth) return undefined;
    const session = [...this.sessions.values()].find((candidate) => candidate.reauthId === reauth.id);
    return { reauth: { ...reauth }, session: session && view(session) };
  }

  async session(id: string): Promise<SessionState | undefined> {
    await roundTrip();
    const session = this.sessions.get(id);
    return session && view(session);
  }

  async countActiveSessions(agentId: string, now: Date): Promise<number> {
    await roundTrip();
    return this.active(agentId, now).length;
  }

  active(agentId: string, now: Date): StoredSession[] {
    return [...this.sessions.values()].filter((s) => s.agentId === agentId && !s.endedAt && s.expiresAt > now);
  }

  async endSession(id: string, by: string, reason: 'policy_revoked'): Promise<unknown> {
    await roundTrip();
    this.ends.push({ id, by, reason });
    const session = this.sessions.get(id);
    if (!session || session.endedAt) return undefined;
    session.endedAt = this.clock.now();
    session.endedBy = by;
    session.endReason = reason;
    this.audit.commitWith('store.endSession', {
      type: 'on_behalf.ended',
      actor: by,
      subject: session.customerId,
      clientId: session.clientId,
      sessionId: id,
      details: { reason, agent: session.agentId },
    });
    return view(session);
  }

  async openSession(
    input: { reauth: ReauthRecord; expiresAt: Date; now: Date },
    event: (sessionId: string) => AuditEventInput,
  ): Promise<OnBehalfSession> {
    const { reauth } = input;
    const open = async (): Promise<OnBehalfSession> => {
      await roundTrip();
      const failure = this.failNextOpen;
      this.failNextOpen = undefined;
      const already = [...this.sessions.values()].find((s) => s.reauthId === reauth.id);
      if (already) {
        // Opened a moment ago by a concurrent exchange with the same actor token: continue it.
        if (already.endedAt) throw invalidRequest('the on-behalf session has ended; re-authenticate to start a new one', 'session_ended');
        if (already.expiresAt <= input.now)
          throw invalidRequest('the on-behalf session has expired; re-authenticate to start a new one', 'session_expired');
        return view(already);
      }
      if (this.options.maxConcurrentSessions !== undefined)
        checkSessionLimit(this.active(reauth.agentId, input.now).length, this.options.maxConcurrentSessions);
      this.sequence += 1;
      const session: StoredSession = {
        id: `obs-${this.sequence}`,
        reauthId: reauth.id,
        agentId: reauth.agentId,
        customerId: reauth.targetId,
        clientId: reauth.clientId,
        grantId: `grant-obs-${this.sequence}`,
        expiresAt: input.expiresAt,
        endedAt: null,
        endedBy: null,
        endReason: null,
      };
      const record = event(session.id);
      await roundTrip();
      // Rolled back: neither the session nor its record exists.
      if (failure) throw failure;
      this.sessions.set(session.id, session);
      this.audit.commitWith('store.openSession', record);
      return view(session);
    };
    if (!this.serialiseOpens) return open();
    return this.serialised(`on_behalf_session:${reauth.agentId}`, open);
  }

  private serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    this.locks.set(
      key,
      run.catch(() => undefined),
    );
    return run;
  }
}

function view(session: StoredSession): StoredSession {
  return { ...session };
}

export class InMemoryTargets implements Targets {
  private readonly byName = new Map<string, ResourceTarget>();

  constructor(
    targets: { target: ResourceTarget; aliases?: string[]; lifetime?: number }[],
    private readonly lifetimes = new Map<string, number>(),
  ) {
    for (const { target, aliases = [], lifetime } of targets) {
      for (const name of [target.identifier, ...aliases]) this.byName.set(name, target);
      if (lifetime) this.lifetimes.set(target.identifier, lifetime);
    }
  }

  find(value: string): ResourceTarget | undefined {
    return this.byName.get(value);
  }
  canonical = (value: string): string => this.byName.get(value)?.identifier ?? value;
  lifetime(target: ResourceTarget, fallback: number): number {
    return this.lifetimes.get(target.identifier) ?? fallback;
  }
}

/** A token as the issuer was asked for it, and whether it was ever created. */
export interface IssuedRecord {
  input: IssueAccessToken;
  jti: string;
  value?: string;
}

/**
 * Prepares tokens and creates them only at `commit()`; a committed token can be
 * read back (so a delegated token can be exchanged again).
 */
export class InMemoryIssuer implements TokenIssuer {
  readonly prepared: IssuedRecord[] = [];
  readonly idTokens: { accountId: string; clientId: string; claims: Record<string, unknown>; expiresIn: number }[] = [];
  private sequence = 0;

  constructor(
    private readonly journal: string[],
    private readonly tokens: InMemoryTokens,
    private readonly clock: TestClock,
  ) {}

  committed(): IssuedRecord[] {
    return this.prepared.filter((record) => record.value !== undefined);
  }

  async prepareAccessToken(input: IssueAccessToken): Promise<PreparedToken> {
    await roundTrip();
    this.sequence += 1;
    const record: IssuedRecord = { input, jti: `jti-${this.sequence}` };
    this.prepared.push(record);
    this.journal.push('issuer.prepareAccessToken');
    const format = input.target.format;
    const { tokens, clock, journal } = this;
    return {
      jti: record.jti,
      format,
      reference: format === 'jwt' ? record.jti : `ref:${record.jti}`,
      expiresIn: input.expiresIn,
      async commit() {
        await roundTrip();
        const now = clock.now();
        const exp = new Date(Math.min(now.getTime() + input.expiresIn * 1000, input.notAfter?.getTime() ?? Infinity));
        record.value = tokens.add(`${format}-token-${record.jti}`, {
          format,
          subject: input.accountId,
          accountId: input.accountId,
          clientId: input.clientId,
          grantId: input.grantId,
          audience: [input.target.identifier],
          scope: input.scope,
          expiresAt: exp,
          act: input.claims.act,
          mayAct: input.claims.may_act,
          oboSessionId: input.claims.obo_sid,
          jti: record.jti,
        });
        journal.push('issuer.commit');
        return record.value;
      },
    };
  }

  async issueIdToken(input: { accountId: string; clientId: string; claims: Record<string, unknown>; expiresIn: number }): Promise<string> {
    await roundTrip();
    this.idTokens.push(input);
    this.journal.push('issuer.issueIdToken');
    return `id-token-${this.idTokens.length}`;
  }
}

/**
 * What src/server/exchange-adapters/grant.ts does around a flow: a refusal
 * (TokenExchangeError) is recorded as `on_behalf.denied` / `delegation.denied`
 * with whatever the flow learned; anything else (a store or trail failure)
 * propagates unrecorded and becomes a 503. Kept in step with grant.ts by hand:
 * the flows do not write their own denials (see the report of this test).
 */
export async function asTheGrantDoes(
  audit: Audit,
  mode: 'on_behalf' | 'delegation',
  context: RequestContext,
  run: (learned: DenialContext) => Promise<ExchangeResponse>,
): Promise<ExchangeResponse> {
  const learned: DenialContext = {};
  try {
    return await run(learned);
  } catch (error) {
    if (!(error instanceof TokenExchangeError)) throw error;
    await audit.record({
      type: mode === 'on_behalf' ? 'on_behalf.denied' : 'delegation.denied',
      actor: learned.agentId ?? `client:${context.client.clientId}`,
      subject: learned.customerId ?? null,
      clientId: context.client.clientId,
      sessionId: learned.sessionId ?? null,
      ip: context.ip,
      userAgent: context.userAgent,
      details: { error: error.code, reason: error.reason, description: error.description },
    });
    throw error;
  }
}

export const AGENT_ID = '00000000-0000-4000-8000-00000000a001';
export const CUSTOMER_ID = '00000000-0000-4000-8000-00000000c001';
export const SECOND_CUSTOMER_ID = '00000000-0000-4000-8000-00000000c002';
export const BOOKS_CUSTOMER_ID = '00000000-0000-4000-8000-00000000c003';
export const STOREFRONT = 'storefront-electronics';
export const INTEGRATOR = 'integrator-shipping';

export interface WorldOptions {
  limits?: Partial<OnBehalfLimits>;
  maxChainDepth?: number;
  requireSecondFactor?: boolean;
}

export type OnBehalfRequest = {
  actorToken: string;
  subject?: string;
  scope?: string[];
  resources?: string[];
  audiences?: string[];
  requestedTokenType?: TokenExchangeRequest['requestedTokenType'];
};
export type DelegationRequest = {
  subjectToken: string;
  subjectTokenType?: typeof TOKEN_TYPES.accessToken | typeof TOKEN_TYPES.jwt;
  actorToken?: string;
  scope?: string[];
  resources?: string[];
  audiences?: string[];
  client?: ExchangeClient;
};

/** The world both flows run in; every part is public so a test can change one fact. */
export function exchangeWorld(options: WorldOptions = {}) {
  const clock = new TestClock();
  const journal: string[] = [];
  const audit = new InMemoryAudit(journal);
  const limits: OnBehalfLimits = { reauthMaxAgeSeconds: 300, sessionMaxSeconds: 3600, maxConcurrentSessions: 3, ...options.limits };
  const accounts = new InMemoryAccounts();
  const tokens = new InMemoryTokens(clock);
  const store = new InMemoryOnBehalfSessions(audit, clock, { maxConcurrentSessions: limits.maxConcurrentSessions });
  const issuer = new InMemoryIssuer(journal, tokens, clock);
  const targets = new InMemoryTargets([
    {
      target: { identifier: ORDERS_API, scopes: ['orders:read', 'orders:write', 'orders:delete'], format: 'jwt' },
      aliases: ['orders'],
      lifetime: 900,
    },
    {
      target: { identifier: SHIPPING_API, scopes: ['orders:read', 'shipping:write'], format: 'jwt' },
      aliases: ['shipping'],
      lifetime: 300,
    },
    { target: { identifier: VAULT_API, scopes: ['orders:read'], format: 'opaque' } },
  ]);

  accounts.agents.set(AGENT_ID, {
    id: AGENT_ID,
    status: 'active',
    storeId: null,
    roles: ['support'],
    loginOnBehalfStores: [ELECTRONICS],
    displayName: 'Ada Agent',
  });
  const customer = (id: string, storeId: string, name: string): TargetAccount => ({
    id,
    status: 'active',
    storeId,
    roles: ['customer'],
    displayName: name,
    email: `${name.toLowerCase()}@example.test`,
  });
  accounts.targets.set(CUSTOMER_ID, customer(CUSTOMER_ID, ELECTRONICS, 'Oleg'));
  accounts.targets.set(SECOND_CUSTOMER_ID, customer(SECOND_CUSTOMER_ID, ELECTRONICS, 'Olga'));
  accounts.targets.set(BOOKS_CUSTOMER_ID, customer(BOOKS_CUSTOMER_ID, BOOKS, 'Bea'));

  /** The storefront of the electronics store: may log in on behalf, read and write orders (not delete). */
  const storefront: ExchangeClient = {
    clientId: STOREFRONT,
    storeId: ELECTRONICS,
    onBehalf: { enabled: true, resource: ORDERS_API, scope: ['orders:read', 'orders:write'], tokenTtlSeconds: 600 },
    delegation: [],
    operates: [],
  };
  /** An integrator that operates the orders API and may pass read access on to shipping. */
  const integrator: ExchangeClient = {
    clientId: INTEGRATOR,
    storeId: null,
    onBehalf: { enabled: false, scope: [], tokenTtlSeconds: 600 },
    delegation: [{ from: 'orders', to: 'shipping', scope: ['orders:read'] }],
    operates: [ORDERS_API],
  };

  const context = (client: ExchangeClient): RequestContext => ({ client, ip: '203.0.113.7', userAgent: 'jest', now: clock.now() });
  let reauths = 0;

  const world = {
    clock,
    journal,
    audit,
    limits,
    accounts,
    tokens,
    store,
    issuer,
    targets,
    storefront,
    integrator,
    onBehalfDeps(): OnBehalfExchangeDeps {
      return {
        accounts,
        tokens,
        onBehalf: store,
        targets,
        issuer,
        audit,
        limits,
        requireSecondFactor: options.requireSecondFactor ?? false,
      };
    },
    delegationDeps(): DelegationDeps {
      return {
        tokens,
        targets,
        issuer,
        audit,
        maxChainDepth: options.maxChainDepth ?? 3,
        sessions: { find: (id) => store.session(id) },
        canonical: targets.canonical,
        tokenLifetime: (target) => targets.lifetime(target, 600),
        reference: (id) => `ref:${id}`,
      };
    },

    /**
     * The agent re-authenticated at the storefront, naming a customer: the re-auth record
     * and the agent's opaque actor token under its grant.
     */
    reauthenticate(input: { customerId?: string; at?: Date; amr?: string[]; actorTokenLifetime?: number } = {}) {
      reauths += 1;
      const grantId = `grant-reauth-${reauths}`;
      const at = input.at ?? clock.now();
      const reauth: ReauthRecord = {
        id: `reauth-${reauths}`,
        agentId: AGENT_ID,
        targetId: input.customerId ?? CUSTOMER_ID,
        clientId: STOREFRONT,
        storeId: ELECTRONICS,
        authenticatedAt: at,
        amr: input.amr ?? ['pwd'],
        reason: 'ticket says the cart is stuck',
        ticket: `T-${reauths}`,
      };
      store.addReauth(grantId, reauth);
      const actorToken = tokens.add(`actor-token-${reauths}`, {
        format: 'opaque',
        subject: AGENT_ID,
        accountId: AGENT_ID,
        clientId: STOREFRONT,
        grantId,
        audience: [],
        scope: ['openid'],
        expiresAt: new Date(at.getTime() + (input.actorTokenLifetime ?? 2 * 3600) * 1000),
        jti: `actor-jti-${reauths}`,
      });
      return { actorToken, reauth, grantId };
    },

    /** A login-on-behalf exchange at the storefront, recorded as the grant records it. */
    onBehalf(request: OnBehalfRequest): Promise<ExchangeResponse> {
      const ctx = context(storefront);
      const parsed: TokenExchangeRequest = {
        mode: 'on_behalf',
        subjectToken: request.subject ?? CUSTOMER_ID,
        subjectTokenType: TOKEN_TYPES.accountId,
        actorToken: request.actorToken,
        actorTokenType: TOKEN_TYPES.accessToken,
        requestedTokenType: request.requestedTokenType ?? TOKEN_TYPES.accessToken,
        resources: request.resources ?? [],
        audiences: request.audiences ?? [],
        scope: request.scope,
      };
      return asTheGrantDoes(audit, 'on_behalf', ctx, (learned) => exchangeOnBehalf(world.onBehalfDeps(), parsed, ctx, learned));
    },

    /** A delegation exchange (by the integrator unless another client is given). */
    delegate(request: DelegationRequest): Promise<ExchangeResponse> {
      const ctx = context(request.client ?? integrator);
      const parsed: TokenExchangeRequest = {
        mode: 'delegation',
        subjectToken: request.subjectToken,
        subjectTokenType: request.subjectTokenType ?? TOKEN_TYPES.accessToken,
        ...(request.actorToken ? { actorToken: request.actorToken, actorTokenType: TOKEN_TYPES.accessToken } : {}),
        requestedTokenType: TOKEN_TYPES.accessToken,
        resources: request.resources ?? [],
        audiences: request.audiences ?? [],
        scope: request.scope,
      };
      return asTheGrantDoes(audit, 'delegation', ctx, (learned) => exchangeDelegation(world.delegationDeps(), parsed, ctx, learned));
    },

    /** An access token Behalf issued earlier (outside the flow under test). */
    givenToken(value: string, token: Partial<PresentedToken> & { act?: ActClaim; mayAct?: MayActClaim }): string {
      return tokens.add(value, {
        format: 'jwt',
        subject: CUSTOMER_ID,
        accountId: CUSTOMER_ID,
        clientId: STOREFRONT,
        audience: [ORDERS_API],
        scope: ['orders:read', 'orders:write'],
        expiresAt: new Date(clock.now().getTime() + 600_000),
        jti: `given-${value}`,
        ...token,
      });
    },

    /** Only the audit records, without the issuer's steps. */
    writes(): string[] {
      return journal.filter((step) => !step.startsWith('issuer.'));
    },
  };
  return world;
}

export type ExchangeWorld = ReturnType<typeof exchangeWorld>;

/** The refusal a promise ends with (fails the test when it resolves or fails otherwise). */
export async function refusalOf(promise: Promise<unknown>): Promise<TokenExchangeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TokenExchangeError) return error;
    throw error;
  }
  throw new Error('expected the exchange to be refused, but it issued a token');
}
