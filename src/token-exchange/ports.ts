/**
 * What the token-exchange grant needs from the rest of Behalf, as small
 * interfaces. src/server implements them with oidc-provider and TypeORM; tests
 * can substitute them.
 */
import type { AuditEventInput } from '../audit/index.js';
import type { AgentFacts, ReauthFacts, SessionFacts, TargetFacts } from './on-behalf-policy.js';
import type { SenderConstraintPolicy } from './sender-constraint.js';
import type { ActClaim, MayActClaim } from './types.js';

export interface ResourceTarget {
  identifier: string;
  scopes: string[];
  format: 'jwt' | 'opaque';
}

export interface OnBehalfClientPolicy {
  enabled: boolean;
  /** Default resource server for on-behalf tokens. */
  resource?: string;
  /** The most an on-behalf token may carry (a read-only profile lists only read scopes). */
  scope: string[];
  tokenTtlSeconds: number;
}

/** From subject audience → to target resource: what a client may derive by delegation. */
export interface DelegationRule {
  from: string;
  to: string;
  scope?: string[];
}

export interface ExchangeClient {
  clientId: string;
  /** Store id of a storefront client. */
  storeId: string | null;
  onBehalf: OnBehalfClientPolicy;
  delegation: DelegationRule[];
  /** Resource servers this client operates (it is their audience). */
  operates: string[];
  /** The client's default resource (`default_resource`): the delegation target when a request names none. */
  defaultResource?: string;
  /** When the client must prove a DPoP key (RFC 9449); absent: never required. */
  senderConstraint?: SenderConstraintPolicy;
}

export interface Targets {
  /** By resource URI or logical audience name. */
  find(value: string): ResourceTarget | undefined;
}

export type AgentAccount = AgentFacts & { displayName: string };
export type TargetAccount = TargetFacts & { displayName: string; email: string | null };

export interface AccountDirectory {
  agent(id: string): Promise<AgentAccount | undefined>;
  target(id: string): Promise<TargetAccount | undefined>;
  /** Both of an exchange's accounts at once (one round trip). */
  pair(agentId: string, targetId: string): Promise<{ agent: AgentAccount | undefined; target: TargetAccount | undefined }>;
}

/** An access token Behalf issued, as found by its value (opaque) or verified (JWT). */
export interface PresentedToken {
  format: 'opaque' | 'jwt';
  /** `sub`: an account id, or a client id for client-credentials tokens. */
  subject: string;
  accountId?: string;
  clientId: string;
  grantId?: string;
  audience: string[];
  scope: string[];
  expiresAt: Date;
  act?: ActClaim;
  mayAct?: MayActClaim;
  oboSessionId?: string;
  jti: string;
  /** Revoked through the token status list (a JWT whose entry is INVALID): every caller must refuse it. */
  revoked?: true;
  /** RFC 9449 `cnf.jkt`: the key a DPoP-bound token is bound to. */
  boundKey?: string;
}

export interface TokenReader {
  /**
   * An opaque access token or JWT access token Behalf issued and that is unexpired, else undefined.
   * A revoked opaque token is undefined; a revoked JWT comes back with `revoked` (so a refusal can say why).
   */
  read(value: string, expected: 'access_token' | 'jwt'): Promise<PresentedToken | undefined>;
}

export interface ReauthRecord extends ReauthFacts {
  reason: string;
  ticket: string | null;
}

export interface OnBehalfSession extends SessionFacts {
  agentId: string;
  customerId: string;
  clientId: string;
  grantId: string;
}

export interface OnBehalfSessions {
  /** The re-authentication made under an agent token's grant, with the session it opened if any (one look-up). */
  reauthByGrant(grantId: string): Promise<{ reauth: ReauthRecord; session: OnBehalfSession | undefined } | undefined>;
  countActiveSessions(agentId: string, now: Date): Promise<number>;
  /** Ends a running session (its permission or its customer went away). */
  endSession(id: string, by: string, reason: 'policy_revoked'): Promise<unknown>;
  /** Opens the session and writes `event` in one transaction; fails if the re-auth already has one. */
  openSession(
    input: { reauth: ReauthRecord; expiresAt: Date; now: Date },
    event: (sessionId: string) => AuditEventInput,
  ): Promise<OnBehalfSession>;
}

export interface IssueAccessToken {
  accountId: string;
  clientId: string;
  target: ResourceTarget;
  scope: string[];
  expiresIn: number;
  grantId?: string;
  claims: { act: ActClaim; obo_sid?: string; may_act?: MayActClaim };
  /** The token must not outlive this (the session's end, the subject token's expiry). */
  notAfter?: Date;
  /** The subject token a delegation derives from: revoking it (or its grant) revokes the new token too. */
  derivedFrom?: Pick<PresentedToken, 'format' | 'jti' | 'grantId'>;
  /** RFC 9449 §6: bind the token to this key thumbprint (`cnf.jkt`). */
  boundKey?: string;
}

export interface PreparedToken {
  jti: string;
  format: 'jwt' | 'opaque';
  /** What the audit trail may name: the jti of a JWT, a hash of an opaque token. */
  reference: string;
  expiresIn: number;
  /** Signs (JWT) or stores (opaque) the token and returns its value. Call only after the audit record is committed. */
  commit(): Promise<string>;
}

export interface TokenIssuer {
  prepareAccessToken(input: IssueAccessToken): Promise<PreparedToken>;
  issueIdToken(input: { accountId: string; clientId: string; claims: Record<string, unknown>; expiresIn: number }): Promise<string>;
}

export interface Audit {
  record(event: AuditEventInput): Promise<unknown>;
}
