/** RFC 8693 token-type identifiers and the shapes the token-exchange grant works with. */

export { GRANT_TYPE, TOKEN_TYPES } from './urns.js';
import type { TOKEN_TYPES } from './urns.js';

export type TokenType = (typeof TOKEN_TYPES)[keyof typeof TOKEN_TYPES];

/** RFC 8693 §4.1: the acting party, with earlier actors nested inside. */
export interface ActClaim {
  sub: string;
  client_id?: string;
  name?: string;
  act?: ActClaim;
}

/** RFC 8693 §4.4: who may act for the subject of a token. */
export interface MayActClaim {
  sub: string;
}

export type ExchangeMode = 'on_behalf' | 'delegation';

/** A request, parsed and checked for form (not yet for meaning). */
export interface TokenExchangeRequest {
  mode: ExchangeMode;
  subjectToken: string;
  subjectTokenType: TokenType;
  actorToken?: string;
  actorTokenType?: TokenType;
  requestedTokenType: typeof TOKEN_TYPES.accessToken | typeof TOKEN_TYPES.idToken | typeof TOKEN_TYPES.jwt;
  resources: string[];
  audiences: string[];
  scope?: string[];
}

/** Walks an `act` chain from the outermost (current) actor inwards. */
export function actorChain(act: ActClaim | undefined): ActClaim[] {
  const chain: ActClaim[] = [];
  for (let current = act; current; current = current.act) {
    chain.push(current);
    if (chain.length > 32) break;
  }
  return chain;
}

export function isActClaim(value: unknown, depth = 0): value is ActClaim {
  if (!value || typeof value !== 'object' || Array.isArray(value) || depth > 32) return false;
  const act = value as Record<string, unknown>;
  if (typeof act.sub !== 'string' || !act.sub) return false;
  return act.act === undefined || isActClaim(act.act, depth + 1);
}
