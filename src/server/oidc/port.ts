/**
 * The seam between Behalf and oidc-provider: what the rest of the server may
 * ask of the OIDC library, in Behalf's own terms. Implemented once, in
 * provider-port.ts; nothing outside `src/server/oidc/` imports oidc-provider
 * (an ESLint rule keeps it so). Routes, interactions and the on-behalf module
 * depend on this interface, so they read without knowing the library, and a
 * test can give them a fake.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BehalfClientView } from './client-metadata.js';

export type { BehalfClientView } from './client-metadata.js';

/** An opaque token Behalf issued and still holds (an access token or a client-credentials token). */
export interface StoredToken {
  kind: 'AccessToken' | 'ClientCredentials';
  jti: string;
  clientId: string;
  /** The account it was issued for; absent for a client's own token. */
  accountId?: string;
  grantId?: string;
  scope: string[];
  audience: string[];
  expiresAt: Date;
  /** Claims Behalf added (`act`, `obo_sid`, `may_act`). */
  extra: Record<string, unknown>;
  /** RFC 9449: the DPoP key thumbprint a sender-constrained token is bound to. */
  boundKey?: string;
}

/** A registered client: Behalf's view of its metadata, plus its display name. */
export interface RegisteredClient extends BehalfClientView {
  name?: string;
}

/** What an interaction page needs to know about the authorization request it serves. */
export interface InteractionDetails {
  uid: string;
  /** The prompt oidc-provider asks for (`login`, `consent`), and what it found missing. */
  prompt: { name: string; details: Record<string, unknown> };
  /** The authorization request's parameters (`client_id`, `on_behalf_of`, …). */
  params: Record<string, unknown>;
  /** The browser's signed-in account, if any. */
  sessionAccountId?: string;
  /** The grant the request already has, if any. */
  grantId?: string;
}

/** How an interaction ends: a sign-in, a consent (the grant to use), or an error for the client. */
export interface InteractionOutcome {
  login?: { accountId: string; amr: string[]; remember: boolean; ts?: number };
  consent?: { grantId: string };
  error?: string;
  error_description?: string;
}

/** Scopes, claims and resource scopes to add to a grant (what a consent screen approved). */
export interface GrantAdditions {
  scopes?: string[];
  claims?: string[];
  resourceScopes?: Record<string, string[]>;
}

export interface OidcPort {
  /** An unexpired opaque access (or client-credentials) token by its value; undefined when unknown. */
  findToken(value: string, options?: { clientCredentials?: boolean }): Promise<StoredToken | undefined>;
  /** The grant still exists, is unexpired, and is this client's for this account (what introspection requires). */
  grantHolds(grantId: string, clientId: string, accountId: string | undefined): Promise<boolean>;
  /** A registered client (validated metadata), or undefined. Throws when the store cannot be asked. */
  findClient(clientId: string): Promise<RegisteredClient | undefined>;
  /** The client if this secret is its secret (compared in constant time), else undefined. Throws when the store cannot be asked. */
  authenticateClient(clientId: string, secret: string): Promise<RegisteredClient | undefined>;
  /** A new grant of `openid` for an account at a client (a re-authentication, an on-behalf session); returns its id. */
  createGrant(accountId: string, clientId: string): Promise<string>;
  /** Adds to an existing grant, or to a new one; returns the grant's id. */
  extendGrant(grantId: string | undefined, accountId: string, clientId: string, additions: GrantAdditions): Promise<string>;
  /** Destroys a grant and every token and code issued under it. */
  revokeGrant(grantId: string): Promise<void>;
  /** The interaction bound to this browser (its cookie); throws when there is none. */
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
  /** Ends the interaction; returns where to send the browser. */
  finishInteraction(req: IncomingMessage, res: ServerResponse, outcome: InteractionOutcome): Promise<string>;
}
