/**
 * Delegation for integrators (DESIGN.md, "Delegation"). Placeholder until the
 * delegation slice lands: every delegation request is refused clearly.
 */
import { unauthorizedClient } from './errors.js';
import type { DenialContext, ExchangeResponse, RequestContext } from './impersonation.js';
import type { Audit, Targets, TokenIssuer, TokenReader } from './ports.js';
import type { TokenExchangeRequest } from './types.js';

export interface DelegationDeps {
  tokens: TokenReader;
  targets: Targets;
  issuer: TokenIssuer;
  audit: Audit;
  maxChainDepth: number;
}

export async function exchangeDelegation(_deps: DelegationDeps, _request: TokenExchangeRequest, context: RequestContext, _learned: DenialContext): Promise<ExchangeResponse> {
  throw unauthorizedClient(`delegation is not available to ${context.client.clientId}`, 'delegation_unavailable');
}
