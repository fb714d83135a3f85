/**
 * Who is calling: the owner (`subject`) and, when someone acts for them, the
 * doer (`actor`). RFC 8693 §4.1: only the outermost `act` is the current
 * actor; nested ones are earlier actors, informational only.
 */
import { KitError } from './errors.js';

/** An actor in an `act` chain. */
export interface Actor {
  sub: string;
  clientId?: string;
  name?: string;
}

export interface Principal {
  /** `sub`: whose data this is (the customer). */
  subject: string;
  /** The outermost `act`: who is acting now (the support agent), if anyone. */
  actor?: Actor;
  /** Every actor, outermost first. */
  actorChain: Actor[];
  clientId: string;
  scopes: string[];
  /** `obo_sid`: the login-on-behalf session this token belongs to. */
  onBehalfSessionId?: string;
  /** True when someone acts for the subject. */
  onBehalf: boolean;
  /** Who did it, for CreatedBy/ModifiedBy: the actor if any, else the subject. */
  doer: string;
  tokenId?: string;
  expiresAt?: Date;
}

/** Verified access-token claims (JWT payload or introspection response). */
export interface AccessTokenClaims {
  sub?: unknown;
  act?: unknown;
  client_id?: unknown;
  scope?: unknown;
  obo_sid?: unknown;
  jti?: unknown;
  exp?: unknown;
  /** RFC 7800 / RFC 9449 §6: the key a sender-constrained token is bound to (`{ jkt }`). */
  cnf?: unknown;
}

/** Longest `act` chain accepted; Behalf limits delegation depth well below this. */
export const MAX_ACTOR_CHAIN = 16;

function malformed(reason: string): KitError {
  return new KitError('invalid_token', `the access token is malformed: ${reason}`);
}

function toActor(value: unknown, depth: number): Actor {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw malformed(`act at depth ${depth} is not an object`);
  const act = value as { sub?: unknown; client_id?: unknown; name?: unknown };
  if (typeof act.sub !== 'string' || !act.sub) throw malformed(`act at depth ${depth} has no sub`);
  return {
    sub: act.sub,
    ...(typeof act.client_id === 'string' ? { clientId: act.client_id } : {}),
    ...(typeof act.name === 'string' ? { name: act.name } : {}),
  };
}

/**
 * Builds a principal from verified claims. Throws `KitError('invalid_token')`
 * when there is no subject, or when an `act` is present but malformed (not an
 * object, no `sub`, a nested `act` that is not an object, a chain deeper than
 * {@link MAX_ACTOR_CHAIN}): a token that says someone acts must never be
 * mistaken for the subject's own.
 *
 * @example
 * const principal = toPrincipal({ sub: 'customer-id', act: { sub: 'agent-id' }, client_id: 'shop', scope: 'orders:read' });
 * principal.doer; // 'agent-id'
 */
export function toPrincipal(claims: AccessTokenClaims): Principal {
  if (typeof claims.sub !== 'string' || !claims.sub) throw new KitError('invalid_token', 'the access token has no subject');
  const actorChain: Actor[] = [];
  for (let act: unknown = claims.act; act !== undefined && act !== null; act = (act as { act?: unknown }).act) {
    if (actorChain.length >= MAX_ACTOR_CHAIN) throw malformed(`the act chain is deeper than ${MAX_ACTOR_CHAIN}`);
    actorChain.push(toActor(act, actorChain.length + 1));
  }
  const actor = actorChain[0];
  return {
    subject: claims.sub,
    ...(actor ? { actor } : {}),
    actorChain,
    clientId: typeof claims.client_id === 'string' ? claims.client_id : '',
    scopes: typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [],
    ...(typeof claims.obo_sid === 'string' && claims.obo_sid ? { onBehalfSessionId: claims.obo_sid } : {}),
    onBehalf: !!actor,
    doer: actor?.sub ?? claims.sub,
    ...(typeof claims.jti === 'string' ? { tokenId: claims.jti } : {}),
    ...(typeof claims.exp === 'number' ? { expiresAt: new Date(claims.exp * 1000) } : {}),
  };
}
