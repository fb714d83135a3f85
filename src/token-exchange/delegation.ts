/**
 * Delegation for integrators (DESIGN.md, "Delegation"): subject = an access
 * token Behalf issued, optional actor = a token of the requesting client.
 * Steps: read and check the subject (type, liveness, session, audience) →
 * identify the actor and check `may_act` → nest `act` → decide target, scope,
 * lifetime and grant from the client's rules → audit → issue.
 */
import { invalidRequest, invalidTarget } from './errors.js';
import {
  actorIdentity,
  applicableRules,
  checkClientMayDelegate,
  checkNotRevoked,
  checkIntendedAudience,
  checkMayAct,
  checkDeclaredType,
  checkSubjectSession,
  defaultDelegationTarget,
  delegationLifetime,
  delegationScope,
  derivedGrant,
  nestAct,
  rulesForTarget,
  type Canonical,
  type SessionState,
} from './delegation-policy.js';
import type { DenialContext, ExchangeResponse, RequestContext } from './on-behalf.js';
import type { Audit, IssueAccessToken, PreparedToken, PresentedToken, ResourceTarget, Targets, TokenReader } from './ports.js';
import { checkPresentedBindings, checkProofRequired, NO_SENDER_CONSTRAINT, tokenTypeFor } from './sender-constraint.js';
import { resolveTarget } from './target.js';
import { actorChain, GRANT_TYPE, TOKEN_TYPES, type ActClaim, type TokenExchangeRequest } from './types.js';

/** Issues the derived token; `notAfter` caps its expiry at the subject's, whatever the clock did meanwhile. */
export interface DelegationIssuer {
  prepareAccessToken(input: IssueAccessToken & { notAfter?: Date }): Promise<PreparedToken>;
}

export interface DelegationDeps {
  tokens: TokenReader;
  /** Resource servers the requesting client may get tokens for. */
  targets: Targets;
  issuer: DelegationIssuer;
  audit: Audit;
  maxChainDepth: number;
  /** On-behalf sessions, by the `obo_sid` a subject token carries. */
  sessions: { find(id: string): Promise<SessionState | undefined> };
  /** Any known resource server's identifier for a URI or alias (rules and audiences name them either way). */
  canonical: Canonical;
  /** The longest a token for this resource server may live (its own setting, else the configured default). */
  tokenLifetime(target: ResourceTarget): number;
  /** A stable reference to an opaque token that is not the token (its value is a bearer secret). */
  reference(opaqueTokenId: string): string;
}

export async function exchangeDelegation(
  deps: DelegationDeps,
  request: TokenExchangeRequest,
  context: RequestContext,
  learned: DenialContext,
): Promise<ExchangeResponse> {
  const { client, now } = context;
  checkClientMayDelegate(client.clientId, client.delegation);
  checkProofRequired('delegation', client.senderConstraint ?? NO_SENDER_CONSTRAINT, context.proof);

  // RFC 8693 §2.2.2: "If either the subject_token or actor_token are invalid for any reason, or are
  // unacceptable based on policy, the invalid_request error code should be used."
  const subject = await readToken('subject_token', request.subjectToken, request.subjectTokenType);
  learned.customerId = subject.subject;
  if (subject.oboSessionId) learned.sessionId = subject.oboSessionId;
  checkSubjectSession(subject.oboSessionId, subject.oboSessionId ? await deps.sessions.find(subject.oboSessionId) : undefined, now);
  checkNotRevoked('subject_token', subject);
  checkIntendedAudience(subject, client, deps.canonical);

  const actorToken = request.actorToken ? await readToken('actor_token', request.actorToken, request.actorTokenType) : undefined;
  if (actorToken) checkNotRevoked('actor_token', actorToken);
  checkPresentedBindings(context.proof, { subject, actor: actorToken });
  const actor = actorIdentity(client.clientId, actorToken);
  if (actor.sub !== client.clientId) learned.agentId = actor.sub;
  checkMayAct(subject, actor);
  const act = nestAct(actor, subject, deps.maxChainDepth);

  const applicable = applicableRules(client.delegation, subject.audience, deps.canonical);
  const target = chooseTarget();
  // RFC 8693 §2.1: a requested token type is honoured or refused, never silently swapped.
  if (request.requestedTokenType === TOKEN_TYPES.jwt && target.format !== 'jwt') {
    throw invalidRequest(
      `requested_token_type ${TOKEN_TYPES.jwt} cannot be issued for ${target.identifier}, which takes opaque access tokens; request ${TOKEN_TYPES.accessToken}`,
      'unsupported_requested_token_type',
    );
  }
  const rules = rulesForTarget(client.clientId, applicable, target, deps.canonical);
  const scope = delegationScope(request.scope, subject.scope, target, rules);
  const expiresIn = delegationLifetime(deps.tokenLifetime(target), subject.expiresAt, now);
  const grantId = derivedGrant(subject, client.clientId, target);

  const prepared = await deps.issuer.prepareAccessToken({
    accountId: subject.subject,
    clientId: client.clientId,
    target,
    scope,
    expiresIn,
    grantId,
    notAfter: subject.expiresAt,
    derivedFrom: { format: subject.format, jti: subject.jti, ...(subject.grantId ? { grantId: subject.grantId } : {}) },
    // obo_sid travels on, so ending the on-behalf session reaches every derived token.
    claims: { act, ...(subject.oboSessionId ? { obo_sid: subject.oboSessionId } : {}) },
    ...(context.proof ? { boundKey: context.proof.jkt } : {}),
  });
  const issuedType = request.requestedTokenType === TOKEN_TYPES.jwt ? TOKEN_TYPES.jwt : TOKEN_TYPES.accessToken;
  // Fail closed: the record is committed before the token exists.
  await deps.audit.record({
    type: 'delegation.issued',
    actor: auditActor(act, client.clientId),
    subject: subject.subject,
    clientId: client.clientId,
    sessionId: subject.oboSessionId ?? null,
    ip: context.ip,
    userAgent: context.userAgent,
    details: {
      grant_type: GRANT_TYPE,
      mode: 'delegation',
      act_chain: actorChain(act).map((entry) => entry.sub),
      audience: target.identifier,
      scope: scope.join(' '),
      expires_in: expiresIn,
      issued_token_type: issuedType,
      format: prepared.format,
      ...(prepared.format === 'jwt' ? { jti: prepared.jti } : { token_ref: prepared.reference }),
      ...(context.proof ? { dpop_jkt: context.proof.jkt } : {}),
      subject_token: describe(subject),
      ...(actorToken ? { actor_token: describe(actorToken) } : {}),
      shares_grant: grantId !== undefined,
    },
  });
  return {
    access_token: await prepared.commit(),
    issued_token_type: issuedType,
    token_type: tokenTypeFor(context.proof),
    expires_in: expiresIn,
    scope: scope.join(' '),
  };

  /**
   * RFC 8693 §2.1: the server "MUST perform the appropriate validation procedures for the indicated
   * token type": an opaque token must be live in the store (not revoked, its grant intact), a JWT
   * must verify against Behalf's own keys as an RFC 9068 access token, and either must be unexpired.
   */
  async function readToken(name: 'subject_token' | 'actor_token', value: string, type: string | undefined): Promise<PresentedToken> {
    checkDeclaredType(name, type);
    const token = await deps.tokens.read(value, type === TOKEN_TYPES.jwt ? 'jwt' : 'access_token');
    if (!token)
      throw invalidRequest(`${name} is not an access token issued by Behalf, or it has expired or been revoked`, `invalid_${name}`);
    checkDeclaredType(name, type, token);
    return token;
  }

  /**
   * RFC 8693 §2.1 resource/audience: exactly one known resource server; none named → the client's
   * default resource (`default_resource`) when its rules allow it for this token, else the rules' only
   * target. §2.2.2: "If the authorization server is unwilling or unable to issue a token for any target
   * service indicated by the resource or audience parameters, the invalid_target error code SHOULD be used."
   */
  function chooseTarget(): ResourceTarget {
    if (request.resources.length || request.audiences.length) {
      return resolveTarget(
        request.resources,
        request.audiences,
        { find: (value) => deps.targets.find(value), identifier: (found) => found.identifier },
        undefined,
      );
    }
    // The client's default wherever its rules allow it for this token (it also settles a choice between
    // several targets); otherwise the rules' only target, as without a default.
    const byDefault = client.defaultResource ? deps.canonical(client.defaultResource) : undefined;
    const identifier =
      byDefault && applicable.some((rule) => deps.canonical(rule.to) === byDefault)
        ? byDefault
        : defaultDelegationTarget(client.clientId, applicable, deps.canonical);
    const found = deps.targets.find(identifier);
    if (!found)
      throw invalidTarget(
        `the delegation rule's target ${identifier} is not a known resource server; ask an administrator to fix the rule`,
        'unknown_rule_target',
      );
    return found;
  }

  function describe(token: PresentedToken) {
    return {
      format: token.format,
      client_id: token.clientId,
      ...(token.format === 'jwt' ? { jti: token.jti } : { token_ref: deps.reference(token.jti) }),
    };
  }
}

/** The audit trail names clients as `client:<id>` and accounts by their id. */
function auditActor(act: ActClaim, clientId: string): string {
  return act.sub === clientId ? `client:${clientId}` : act.sub;
}
