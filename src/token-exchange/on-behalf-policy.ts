/**
 * Who may act for whom, for how long: the login-on-behalf rules as pure
 * functions (DESIGN.md, "Token exchange profile"). No I/O; every refusal says why.
 */
import { invalidRequest, unauthorizedClient } from './errors.js';

export const LOGIN_ON_BEHALF = 'security:loginOnBehalf';
/** DESIGN.md: an on-behalf access token lives at most 15 minutes. */
export const MAX_ON_BEHALF_TOKEN_SECONDS = 900;

export interface AgentFacts {
  id: string;
  status: string;
  storeId: string | null;
  roles: readonly string[];
  /** Stores the agent may log in on behalf for; `null` in the list means every store. */
  loginOnBehalfStores: readonly (string | null)[];
}

/**
 * The customer's standing. A temporary sign-in lockout is deliberately not a
 * fact here: it guards the customer's password, and anyone who knows their
 * email can trigger it, so it must not end or refuse an agent's session.
 */
export interface TargetFacts {
  id: string;
  status: string;
  storeId: string | null;
  roles: readonly string[];
}

export interface ReauthFacts {
  id: string;
  agentId: string;
  targetId: string;
  clientId: string;
  storeId: string;
  authenticatedAt: Date;
  /**
   * When the customer approved it, if the re-authentication waited for their approval: the
   * session must then start soon after the approval (the agent may have waited minutes for it).
   */
  approvedAt?: Date | null;
  /** How the agent authenticated (RFC 8176 values: `pwd`, `otp`). */
  amr?: readonly string[];
}

export interface SessionFacts {
  id: string;
  expiresAt: Date;
  endedAt: Date | null;
}

export interface OnBehalfLimits {
  reauthMaxAgeSeconds: number;
  sessionMaxSeconds: number;
  maxConcurrentSessions: number;
}

export interface ClientOnBehalfPolicy {
  enabled: boolean;
  /** Store the client serves: only that store's customers are targets. */
  storeId: string | null;
  tokenTtlSeconds: number;
}

const isStaff = (roles: readonly string[]) => roles.includes('support') || roles.includes('admin');

export function checkClientMayActOnBehalf(clientId: string, policy: ClientOnBehalfPolicy): void {
  if (!policy.enabled || !policy.storeId)
    throw unauthorizedClient(`client ${clientId} is not allowed login on behalf`, 'client_not_allowed');
}

/**
 * The customer to act for: an active customer of the client's store, never staff, never the agent.
 * A disabled (or administratively locked) account is refused; a temporary lockout after wrong
 * passwords is not (see TargetFacts), so the answer does not depend on the time (`_now`).
 */
export function checkTarget<T extends TargetFacts>(target: T | undefined, storeId: string, agentId: string | undefined, _now?: Date): T {
  if (!target) throw invalidRequest('subject_token names no account', 'unknown_target');
  if (agentId && target.id === agentId) throw invalidRequest('an agent cannot log in on behalf of themselves', 'self_target');
  if (isStaff(target.roles) || target.storeId === null)
    throw invalidRequest('staff and admin accounts cannot be acted for: login on behalf is for customers', 'privileged_target');
  if (target.storeId !== storeId)
    throw invalidRequest("subject_token names an account of another store than this client's", 'target_other_store');
  if (!target.roles.includes('customer')) throw invalidRequest('subject_token must name a customer account', 'target_not_customer');
  if (target.status !== 'active') throw invalidRequest('the customer account is not active', 'target_inactive');
  return target;
}

/** The agent: active staff holding login on behalf for the target's store. */
export function checkAgent<T extends AgentFacts>(agent: T | undefined, storeId: string): T {
  if (!agent || agent.status !== 'active' || agent.storeId !== null || !isStaff(agent.roles)) {
    throw invalidRequest('the agent behind actor_token is not active staff', 'agent_inactive');
  }
  if (!agent.loginOnBehalfStores.some((store) => store === null || store === storeId)) {
    throw invalidRequest(`the agent does not hold ${LOGIN_ON_BEHALF} for this store`, 'no_permission');
  }
  return agent;
}

/**
 * Refusals that mean a running session can no longer be allowed to continue: the agent lost the
 * permission or left, or the customer was disabled. A temporary lockout is none of these.
 */
const ENDS_SESSION: ReadonlySet<string> = new Set(['no_permission', 'agent_inactive', 'target_inactive']);

export function refusalEndsSession(reason: string): boolean {
  return ENDS_SESSION.has(reason);
}

/** The re-authentication must have been made for this very target, through this very client. */
export function checkReauthBinding(reauth: ReauthFacts, targetId: string, clientId: string): void {
  if (reauth.clientId !== clientId) throw invalidRequest('actor_token was issued to another client', 'actor_other_client');
  if (reauth.targetId !== targetId)
    throw invalidRequest('the re-authentication named another customer than subject_token', 'reauth_other_target');
}

/**
 * With `security.requireSecondFactorForLoginOnBehalf` on, a re-authentication
 * counts only if the agent also gave a one-time code. Checked at the exchange
 * as well as on the re-auth screen, so a re-authentication recorded before
 * the switch was turned on (or by an instance without it) opens nothing.
 */
export function checkReauthFactors(reauth: Pick<ReauthFacts, 'amr'>, policy: { requireSecondFactor: boolean }): void {
  if (policy.requireSecondFactor && !(reauth.amr ?? []).includes('otp')) {
    throw invalidRequest(
      'login on behalf requires a second factor: the agent re-authenticated with a password only; enrol TOTP and re-authenticate',
      'second_factor_required',
    );
  }
}

export type SessionDecision<S extends SessionFacts> = { kind: 'continue'; session: S } | { kind: 'open'; expiresAt: Date };

/**
 * The first exchange after a fresh re-authentication opens the session; later
 * ones continue it until it ends. A re-authentication never opens a second one.
 */
export function decideSession<S extends SessionFacts>(
  reauth: ReauthFacts,
  session: S | undefined,
  activeSessions: number,
  limits: OnBehalfLimits,
  now: Date,
): SessionDecision<S> {
  if (session) {
    if (session.endedAt) throw invalidRequest('the on-behalf session has ended; re-authenticate to start a new one', 'session_ended');
    if (session.expiresAt <= now)
      throw invalidRequest('the on-behalf session has expired; re-authenticate to start a new one', 'session_expired');
    return { kind: 'continue', session };
  }
  const since = reauth.approvedAt && reauth.approvedAt > reauth.authenticatedAt ? reauth.approvedAt : reauth.authenticatedAt;
  const age = (now.getTime() - since.getTime()) / 1000;
  if (age > limits.reauthMaxAgeSeconds) {
    throw invalidRequest(
      `the re-authentication is ${Math.floor(age)} s old; an on-behalf session must start within ${limits.reauthMaxAgeSeconds} s of it`,
      'stale_reauth',
    );
  }
  checkSessionLimit(activeSessions, limits.maxConcurrentSessions);
  return { kind: 'open', expiresAt: new Date(now.getTime() + limits.sessionMaxSeconds * 1000) };
}

/**
 * The per-agent limit of concurrent sessions. Also applied by the session
 * store under a per-agent lock when it opens one: counted only beforehand,
 * concurrent first exchanges could each see room and together pass the limit.
 */
export function checkSessionLimit(activeSessions: number, maxConcurrentSessions: number): void {
  if (activeSessions >= maxConcurrentSessions) {
    throw invalidRequest(
      `the agent already has ${activeSessions} active on-behalf sessions (limit ${maxConcurrentSessions}); end one first`,
      'session_limit',
    );
  }
}

/** Seconds an on-behalf token may live: the client's setting, at most 15 minutes, never past the session. */
export function onBehalfTokenLifetime(clientTtlSeconds: number, sessionExpiresAt: Date, now: Date): number {
  const untilEnd = Math.floor((sessionExpiresAt.getTime() - now.getTime()) / 1000);
  const lifetime = Math.min(clientTtlSeconds, MAX_ON_BEHALF_TOKEN_SECONDS, untilEnd);
  if (lifetime < 1) throw invalidRequest('the on-behalf session has expired', 'session_expired');
  return lifetime;
}
