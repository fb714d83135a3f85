/**
 * Delegation for integrators as pure functions (DESIGN.md, "Delegation"):
 * whose token may be exchanged by whom, for which target, with what scope and
 * for how long, and how the `act` chain grows. No I/O; every refusal says
 * what the caller should fix.
 */
import { invalidRequest, invalidScope, invalidTarget, unauthorizedClient } from './errors.js';
import type { DelegationRule, PresentedToken, ResourceTarget } from './ports.js';
import { intersect } from './scope.js';
import { actorChain, TOKEN_TYPES, type ActClaim } from './types.js';

/** A resource server's identifier for a URI or logical name; anything else (a client id) as given. */
export type Canonical = (value: string) => string;

export interface SessionState {
  endedAt: Date | null;
  expiresAt: Date;
}

export function checkClientMayDelegate(clientId: string, rules: readonly DelegationRule[]): void {
  if (rules.length === 0)
    throw unauthorizedClient(
      `client ${clientId} has no delegation rules, so it may not exchange access tokens; ask an administrator to configure delegation for it`,
      'client_not_allowed',
    );
}

/**
 * RFC 8693 §3: `…:jwt` says the token is a JWT; `…:access_token` says it is an
 * access token, in whatever format. Only those two can be exchanged by
 * delegation, and a declared type the token is not is refused.
 */
export function checkDeclaredType(name: 'subject_token' | 'actor_token', declared: string | undefined, token?: PresentedToken): void {
  if (declared !== TOKEN_TYPES.accessToken && declared !== TOKEN_TYPES.jwt) {
    throw invalidRequest(
      `${name}_type must be ${TOKEN_TYPES.accessToken} or ${TOKEN_TYPES.jwt} for delegation`,
      `unsupported_${name}_type`,
    );
  }
  if (token && declared === TOKEN_TYPES.jwt && token.format !== 'jwt') {
    throw invalidRequest(
      `${name} is an opaque access token, not a JWT; send ${name}_type=${TOKEN_TYPES.accessToken}`,
      `${name}_type_mismatch`,
    );
  }
}

/** A subject that belongs to an on-behalf session lives only as long as that session. */
export function checkSubjectSession(sessionId: string | undefined, session: SessionState | undefined, now: Date): void {
  if (!sessionId) return;
  if (!session) throw invalidRequest('subject_token names an on-behalf session Behalf does not know', 'unknown_session');
  if (session.endedAt)
    throw invalidRequest('the on-behalf session of subject_token has ended; its tokens can no longer be exchanged', 'session_ended');
  if (session.expiresAt <= now)
    throw invalidRequest('the on-behalf session of subject_token has expired; its tokens can no longer be exchanged', 'session_expired');
}

/** RFC 8693 §2.2.2: a revoked token is invalid (checked after the session, whose end says more). */
export function checkNotRevoked(name: 'subject_token' | 'actor_token', token: PresentedToken): void {
  if (token.revoked) throw invalidRequest(`${name} has been revoked`, `invalid_${name}`);
}

/**
 * The requesting client must be an intended audience of the subject token: its
 * client id or a resource server it operates is in `aud`, or `may_act` names it.
 */
export function checkIntendedAudience(
  subject: PresentedToken,
  client: { clientId: string; operates: readonly string[] },
  canonical: Canonical,
): void {
  if (subject.audience.includes(client.clientId)) return;
  const audience = new Set(subject.audience.map(canonical));
  if (client.operates.some((resource) => audience.has(canonical(resource)))) return;
  if (subject.mayAct?.sub === client.clientId) return;
  const named = subject.audience.length ? subject.audience.join(' ') : 'no audience';
  throw invalidRequest(
    `subject_token is not meant for this client: its audience is ${named}, and ${client.clientId} neither operates it nor is named in its may_act`,
    'not_audience',
  );
}

/**
 * The acting party. Without an actor token it is the requesting client. RFC
 * 8693 §2.1: the actor token "represents the identity of the acting party",
 * and the acting party here is always the requesting client: its token must
 * have been issued to it; a user behind it becomes the actor (with client_id).
 */
export function actorIdentity(clientId: string, actorToken: PresentedToken | undefined): ActClaim {
  if (!actorToken) return { sub: clientId };
  if (actorToken.clientId !== clientId) {
    throw invalidRequest(
      `actor_token was issued to another client (${actorToken.clientId}); send a token issued to ${clientId}, such as its own client-credentials token`,
      'actor_other_client',
    );
  }
  if (actorToken.act)
    throw invalidRequest(
      'actor_token already carries an act claim; send a token that represents the acting party itself',
      'actor_delegated',
    );
  return actorToken.subject === clientId ? { sub: clientId } : { sub: actorToken.subject, client_id: clientId };
}

/**
 * RFC 8693 §4.4: `may_act` "makes a statement that one party is authorized to
 * become the actor and act on behalf of another party"; when present, only
 * that party may become the actor.
 */
export function checkMayAct(subject: PresentedToken, actor: ActClaim): void {
  if (subject.mayAct && subject.mayAct.sub !== actor.sub) {
    throw invalidRequest(
      `subject_token allows only ${subject.mayAct.sub} to act for its subject (may_act), not ${actor.sub}`,
      'may_act_violation',
    );
  }
}

/**
 * RFC 8693 §4.1: "A chain of delegation can be expressed by nesting one act
 * claim within another." The new actor goes outermost and every earlier actor
 * stays nested inside it. An actor who is already in the chain (or is the
 * subject) would make it circular; a chain deeper than the limit is refused.
 */
export function nestAct(actor: ActClaim, subject: PresentedToken, maxDepth: number): ActClaim {
  const previous = actorChain(subject.act);
  const identities = (act: ActClaim) => [act.sub, ...(act.client_id ? [act.client_id] : [])];
  const seen = new Set([subject.subject, ...previous.flatMap(identities)]);
  const repeated = identities(actor).find((identity) => seen.has(identity));
  if (repeated !== undefined) {
    throw invalidRequest(
      `${repeated} is already the subject or an earlier actor of subject_token; a delegation chain must not loop back`,
      'circular_chain',
    );
  }
  const depth = previous.length + 1;
  if (depth > maxDepth)
    throw invalidRequest(`the delegation chain would have ${depth} actors; at most ${maxDepth} are allowed`, 'chain_too_deep');
  return { ...actor, ...(subject.act ? { act: copyAct(subject.act) } : {}) };
}

/** Only the registered members of an act claim travel on (sub, client_id, nested act). */
function copyAct(act: ActClaim): ActClaim {
  return { sub: act.sub, ...(act.client_id ? { client_id: act.client_id } : {}), ...(act.act ? { act: copyAct(act.act) } : {}) };
}

/** The client's rules that apply to this subject: those whose `from` is in its audience. */
export function applicableRules(rules: readonly DelegationRule[], audience: readonly string[], canonical: Canonical): DelegationRule[] {
  const aud = new Set(audience.map(canonical));
  return rules.filter((rule) => aud.has(canonical(rule.from)));
}

/** With no resource or audience: the single target the applicable rules allow. */
export function defaultDelegationTarget(clientId: string, applicable: readonly DelegationRule[], canonical: Canonical): string {
  const targets = [...new Set(applicable.map((rule) => canonical(rule.to)))];
  if (targets.length === 1) return targets[0]!;
  if (targets.length === 0)
    throw invalidTarget(`no delegation rule of ${clientId} accepts tokens with this subject_token's audience`, 'no_delegation_rule');
  throw invalidTarget(
    `name the target with resource or audience: ${clientId} may delegate this token to ${targets.join(' or ')}`,
    'ambiguous_delegation',
  );
}

/** The rules that allow this very target (`to`), given the applicable ones; none means the exchange is refused. */
export function rulesForTarget(
  clientId: string,
  applicable: readonly DelegationRule[],
  target: ResourceTarget,
  canonical: Canonical,
): DelegationRule[] {
  const matching = applicable.filter((rule) => canonical(rule.to) === target.identifier);
  if (matching.length === 0) {
    const allowed = [...new Set(applicable.map((rule) => canonical(rule.to)))];
    const hint = allowed.length ? `it may delegate this token to ${allowed.join(', ')}` : 'no rule accepts this subject_token’s audience';
    throw invalidTarget(`${clientId} may not delegate this token to ${target.identifier}; ${hint}`, 'target_not_delegable');
  }
  return matching;
}

/**
 * RFC 8693 §2.1 scope, narrowed: within the subject token's scope, the target's
 * scopes and the rule's scope (a rule without scope does not narrow).
 */
export function delegationScope(
  requested: string[] | undefined,
  subjectScope: readonly string[],
  target: ResourceTarget,
  rules: readonly DelegationRule[],
): string[] {
  let allowed = intersect(subjectScope, target.scopes);
  if (rules.every((rule) => rule.scope))
    allowed = intersect(
      allowed,
      rules.flatMap((rule) => rule.scope!),
    );
  if (!requested) {
    if (allowed.length === 0)
      throw invalidScope(
        `subject_token carries no scope that ${target.identifier} accepts under this client's delegation rules`,
        'no_scope',
      );
    return allowed;
  }
  if (requested.length === 0) throw invalidScope('scope must not be empty', 'empty_scope');
  const beyond = requested.filter((scope) => !allowed.includes(scope));
  if (beyond.length)
    throw invalidScope(
      `scope ${beyond.join(' ')} is beyond what subject_token allows for ${target.identifier} (${allowed.join(' ') || 'nothing'}); ask for less`,
      'scope_escalation',
    );
  return requested;
}

/** Seconds the derived token may live: the target's lifetime, never past the subject token's expiry. */
export function delegationLifetime(maxSeconds: number, subjectExpiresAt: Date, now: Date): number {
  const remaining = Math.floor((subjectExpiresAt.getTime() - now.getTime()) / 1000);
  if (remaining < 1) throw invalidRequest('subject_token has expired; obtain a fresh one', 'subject_expired');
  return Math.min(maxSeconds, remaining);
}

/**
 * Which grant the derived token joins, so that revoking the subject revokes it
 * too (DESIGN.md: "Derived tokens share the subject token's grant"):
 * - a JWT is never stored, so it joins no grant: its life is bounded by the
 *   subject's expiry and, on behalf, by the session's status;
 * - an opaque token derived from a JWT subject joins none either (the subject
 *   cannot be revoked; expiry and session bound it the same way);
 * - an opaque token derived from an opaque subject joins the subject's grant,
 *   which oidc-provider accepts only when that grant is the requesting client's
 *   for the same subject. Otherwise revoking the subject could not reach the
 *   derived token, so none is issued.
 */
export function derivedGrant(subject: PresentedToken, clientId: string, target: ResourceTarget): string | undefined {
  if (target.format === 'jwt' || subject.format === 'jwt') return undefined;
  if (subject.grantId && subject.clientId === clientId && subject.accountId === subject.subject) return subject.grantId;
  throw invalidTarget(
    `${target.identifier} takes opaque access tokens, which must be revocable together with their subject_token; this subject_token (issued to ${subject.clientId}) has no grant ${clientId} can share. Delegate to a resource server that takes JWT access tokens`,
    'target_not_revocable',
  );
}
