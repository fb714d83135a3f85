/**
 * Login on behalf (DESIGN.md, "Token exchange profile"): subject = a customer account
 * id, actor = the agent's access token from a re-authentication. Steps:
 * read the actor token → check agent, target, binding → decide the session →
 * decide target and scope → open/continue with its audit record → issue.
 */
import type { AuditEventInput } from '../audit/index.js';
import { TokenExchangeError, invalidRequest } from './errors.js';
import {
  checkAgent,
  checkClientMayActOnBehalf,
  checkReauthBinding,
  checkReauthFactors,
  checkTarget,
  decideSession,
  onBehalfTokenLifetime,
  refusalEndsSession,
  type OnBehalfLimits,
} from './on-behalf-policy.js';
import type {
  AccountDirectory,
  Audit,
  ExchangeClient,
  OnBehalfSession,
  OnBehalfSessions,
  Targets,
  TokenIssuer,
  TokenReader,
} from './ports.js';
import { decideScope, intersect } from './scope.js';
import {
  checkPresentedBindings,
  checkProofRequired,
  NO_SENDER_CONSTRAINT,
  tokenTypeFor,
  type ProofOfPossession,
} from './sender-constraint.js';
import { resolveTarget } from './target.js';
import { GRANT_TYPE, TOKEN_TYPES, type TokenExchangeRequest } from './types.js';

export interface OnBehalfExchangeDeps {
  accounts: AccountDirectory;
  tokens: TokenReader;
  onBehalf: OnBehalfSessions;
  targets: Targets;
  issuer: TokenIssuer;
  audit: Audit;
  limits: OnBehalfLimits;
  /** `security.requireSecondFactorForLoginOnBehalf`. */
  requireSecondFactor?: boolean;
}

export interface ExchangeResponse {
  access_token: string;
  issued_token_type: string;
  token_type: 'Bearer' | 'DPoP' | 'N_A';
  expires_in: number;
  scope?: string;
}

export interface RequestContext {
  client: ExchangeClient;
  ip: string | null;
  userAgent: string | null;
  now: Date;
  /** The key a valid DPoP proof with the request proved (RFC 9449); the server checked the proof. */
  proof?: ProofOfPossession;
}

/** The facts a denial can name: as much as was learned before the refusal. */
export interface DenialContext {
  agentId?: string;
  customerId?: string;
  sessionId?: string;
}

export async function exchangeOnBehalf(
  deps: OnBehalfExchangeDeps,
  request: TokenExchangeRequest,
  context: RequestContext,
  learned: DenialContext,
): Promise<ExchangeResponse> {
  const { client, now } = context;
  checkClientMayActOnBehalf(client.clientId, { ...client.onBehalf, storeId: client.storeId });
  const storeId = client.storeId!;
  checkProofRequired('on_behalf', client.senderConstraint ?? NO_SENDER_CONSTRAINT, context.proof);

  // RFC 8693 §2.1: the actor token is required for login on behalf: it proves the agent re-authenticated.
  if (!request.actorToken)
    throw invalidRequest(
      'actor_token (the agent’s access token from the re-authentication) is required for login on behalf',
      'missing_actor_token',
    );
  if (request.actorTokenType !== TOKEN_TYPES.accessToken)
    throw invalidRequest(`actor_token_type must be ${TOKEN_TYPES.accessToken}`, 'wrong_actor_token_type');
  const actor = await deps.tokens.read(request.actorToken, 'access_token');
  if (!actor || actor.revoked) throw invalidRequest('actor_token is invalid, expired or revoked', 'invalid_actor_token');
  // A genuine JWT access token (say, an earlier on-behalf token) is not "invalid": it is the wrong kind
  // of token, and saying "expired or revoked" would send the caller looking in the wrong place.
  if (actor.format !== 'opaque' || !actor.accountId) {
    throw invalidRequest(
      'actor_token must be the agent’s access token from the login-on-behalf re-authentication at this client, not a JWT access token or a client’s own token',
      'actor_not_reauthenticated',
    );
  }
  learned.agentId = actor.accountId;
  checkPresentedBindings(context.proof, { actor });
  if (actor.clientId !== client.clientId) {
    throw invalidRequest(
      `actor_token was issued to another client (${actor.clientId}); re-authenticate through ${client.clientId}`,
      'actor_other_client',
    );
  }
  // Independent reads, in parallel: an exchange's latency is its count of sequential round trips.
  // The session is looked up with the re-auth, before the checks, so that a refusal in the middle
  // of a session (customer disabled, permission revoked) is recorded against that session.
  const [found, { target: account, agent: agentFacts }] = await Promise.all([
    actor.grantId ? deps.onBehalf.reauthByGrant(actor.grantId) : undefined,
    deps.accounts.pair(actor.accountId, request.subjectToken),
  ]);
  if (!found)
    throw invalidRequest(
      'actor_token does not come from a login-on-behalf re-authentication (prompt=login with on_behalf_of)',
      'not_reauthenticated',
    );
  const { reauth, session: existing } = found;
  if (existing) learned.sessionId = existing.id;
  // The trail names whom the agent tried to act for, also when that account is refused (staff, disabled, …).
  if (account) learned.customerId = account.id;
  let target: NonNullable<typeof account>;
  let agent: NonNullable<typeof agentFacts>;
  try {
    target = checkTarget(account, storeId, actor.accountId, now);
    agent = checkAgent(agentFacts, storeId);
  } catch (error) {
    // The permission was revoked or the customer disabled since the session opened: it ends now,
    // rather than lingering until it expires.
    if (existing && !existing.endedAt && error instanceof TokenExchangeError && refusalEndsSession(error.reason)) {
      await deps.onBehalf.endSession(existing.id, 'system', 'policy_revoked');
    }
    throw error;
  }
  checkReauthBinding(reauth, target.id, client.clientId);
  checkReauthFactors(reauth, { requireSecondFactor: deps.requireSecondFactor ?? false });

  const decision = decideSession(reauth, existing, existing ? 0 : await deps.onBehalf.countActiveSessions(agent.id, now), deps.limits, now);

  const resource = resolveTarget(
    request.resources,
    request.audiences,
    { find: (value) => deps.targets.find(value), identifier: (t) => t.identifier },
    client.onBehalf.resource ? deps.targets.find(client.onBehalf.resource) : undefined,
  );
  // RFC 8693 §2.1: a requested type is honoured or refused, never silently swapped for another.
  if (request.requestedTokenType === TOKEN_TYPES.jwt && resource.format !== 'jwt') {
    throw invalidRequest(
      `requested_token_type ${TOKEN_TYPES.jwt} cannot be issued for ${resource.identifier}, which takes opaque access tokens; request ${TOKEN_TYPES.accessToken}`,
      'unsupported_requested_token_type',
    );
  }
  const allowedScope = intersect(client.onBehalf.scope, resource.scopes);
  const scope = decideScope(request.scope, allowedScope);

  const common = (sessionId: string): Omit<AuditEventInput, 'type'> => ({
    actor: agent.id,
    subject: target.id,
    clientId: client.clientId,
    sessionId,
    ip: context.ip,
    userAgent: context.userAgent,
  });

  const expiresAt = decision.kind === 'open' ? decision.expiresAt : decision.session.expiresAt;
  const expiresIn = onBehalfTokenLifetime(client.onBehalf.tokenTtlSeconds, expiresAt, now);
  const session = decision.kind === 'open' ? await open() : decision.session;
  const tokenIssued = (token: Record<string, string>): AuditEventInput => ({
    ...common(session.id),
    type: 'token.issued',
    details: {
      grant_type: GRANT_TYPE,
      mode: 'on_behalf',
      audience: resource.identifier,
      scope: scope.join(' '),
      expires_in: expiresIn,
      ...token,
    },
  });

  if (request.requestedTokenType === TOKEN_TYPES.idToken) {
    // The banner token: the customer as subject, the agent (with a display name) as actor.
    const idToken = await deps.issuer.issueIdToken({
      accountId: target.id,
      clientId: client.clientId,
      expiresIn,
      claims: {
        name: target.displayName,
        ...(target.email ? { email: target.email } : {}),
        act: { sub: agent.id, name: agent.displayName },
        obo_sid: session.id,
      },
    });
    await deps.audit.record(tokenIssued({ issued_token_type: TOKEN_TYPES.idToken }));
    return { access_token: idToken, issued_token_type: TOKEN_TYPES.idToken, token_type: 'N_A', expires_in: expiresIn };
  }

  const prepared = await deps.issuer.prepareAccessToken({
    accountId: target.id,
    clientId: client.clientId,
    target: resource,
    scope,
    expiresIn,
    grantId: session.grantId,
    claims: { act: { sub: agent.id }, obo_sid: session.id },
    notAfter: session.expiresAt,
    ...(context.proof ? { boundKey: context.proof.jkt } : {}),
  });
  const issuedType = request.requestedTokenType === TOKEN_TYPES.jwt ? TOKEN_TYPES.jwt : TOKEN_TYPES.accessToken;
  // Fail closed: the record is committed before the token exists.
  await deps.audit.record(
    tokenIssued({
      issued_token_type: issuedType,
      format: prepared.format,
      ...(prepared.format === 'jwt' ? { jti: prepared.jti } : { token_ref: prepared.reference }),
      // RFC 9449: the key the token is bound to (a public thumbprint, not a secret).
      ...(context.proof ? { dpop_jkt: context.proof.jkt } : {}),
    }),
  );
  return {
    access_token: await prepared.commit(),
    issued_token_type: issuedType,
    token_type: tokenTypeFor(context.proof),
    expires_in: expiresIn,
    scope: scope.join(' '),
  };

  async function open(): Promise<OnBehalfSession> {
    const opened = await deps.onBehalf.openSession({ reauth, expiresAt, now }, (newSessionId) => ({
      ...common(newSessionId),
      type: 'on_behalf.started',
      details: {
        reason: reauth.reason,
        ticket: reauth.ticket,
        store_id: storeId,
        expires_at: expiresAt.toISOString(),
        reauthenticated_at: reauth.authenticatedAt.toISOString(),
        audience: resource.identifier,
        scope: scope.join(' '),
      },
    }));
    learned.sessionId = opened.id;
    return opened;
  }
}
