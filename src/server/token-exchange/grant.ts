/**
 * Registers RFC 8693 token exchange with oidc-provider. This file is the
 * seam: it turns oidc-provider's context into the policy's ports, runs the
 * flow, and maps refusals onto OAuth errors (every one audited).
 */
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { StoreService } from '../../accounts/store-service.js';
import type { AccountService } from '../../accounts/account-service.js';
import { exchangeDelegation, type DelegationDeps, type DelegationIssuer } from '../../token-exchange/delegation.js';
import { TokenExchangeError, invalidTarget } from '../../token-exchange/errors.js';
import { exchangeOnBehalf, type DenialContext } from '../../token-exchange/impersonation.js';
import type { OnBehalfLimits } from '../../token-exchange/impersonation-policy.js';
import { parseTokenExchangeRequest, type RawParams } from '../../token-exchange/parse.js';
import type { ResourceTarget, Targets } from '../../token-exchange/ports.js';
import { GRANT_TYPE, TOKEN_TYPES } from '../../token-exchange/types.js';
import type { Logger } from '../observability/logger.js';
import type { AuditService } from '../audit/audit-service.js';
import { requestMeta } from '../audit/request-meta.js';
import type { ResourceServerRegistry } from '../clients/resource-servers.js';
import { behalfClient } from '../oidc/client-metadata.js';
import { tokenReference } from '../oidc/token-audit.js';
import type { PostgresOnBehalfStore } from '../on-behalf/on-behalf-store.js';
import { accountDirectory } from './account-directory.js';
import { exchangeClient } from './exchange-client.js';
import type { OidcTokenReader } from './token-reader.js';
import { oidcTokenIssuer } from './token-issuer.js';

export const TOKEN_EXCHANGE_PARAMETERS = ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'resource', 'audience', 'scope'];
/** RFC 8693 §2.1: resource and audience may be given more than once. */
export const TOKEN_EXCHANGE_DUPES = ['resource', 'audience'];

export interface TokenExchangeDependencies {
  accounts: AccountService;
  stores: StoreService;
  resourceServers: ResourceServerRegistry;
  onBehalf: PostgresOnBehalfStore;
  tokens: OidcTokenReader;
  audit: AuditService;
  limits: OnBehalfLimits;
  /** `security.requireSecondFactorForLoginOnBehalf`: re-authentications without `otp` open nothing. */
  requireSecondFactor: boolean;
  maxChainDepth: number;
  /** Lifetime of a resource server's tokens when it sets none (config tokens.resourceAccessTokenTtl). */
  resourceAccessTokenTtl: number;
  logger: Logger;
}

/** Exchanges whose outcome this handler already recorded; the provider-level audit skips them. */
export const handledExchanges = new WeakSet<object>();

/** The resource servers this client may get tokens for, by URI or alias. */
function targetsFor(registry: ResourceServerRegistry, allowed: string[]): Targets {
  return {
    find(value) {
      const server = registry.find(value);
      if (!server) return undefined;
      if (!allowed.includes(server.identifier)) throw invalidTarget(`this client may not get tokens for ${server.identifier}`, 'target_not_allowed');
      const target: ResourceTarget = { identifier: server.identifier, scopes: server.scopes, format: server.tokenFormat };
      return target;
    },
  };
}

function delegationDeps(deps: TokenExchangeDependencies, targets: Targets, issuer: DelegationIssuer): DelegationDeps {
  const registry = deps.resourceServers;
  return {
    tokens: deps.tokens,
    targets,
    issuer,
    audit: deps.audit,
    maxChainDepth: deps.maxChainDepth,
    sessions: { find: (id) => deps.onBehalf.session(id) },
    canonical: (value) => registry.find(value)?.identifier ?? value,
    tokenLifetime: (target) => registry.get(target.identifier)?.accessTokenTtl ?? deps.resourceAccessTokenTtl,
    reference: tokenReference,
  };
}

export function tokenExchangeHandler(deps: TokenExchangeDependencies) {
  const directory = accountDirectory(deps.accounts);

  return async function tokenExchange(ctx: KoaContextWithOIDC): Promise<void> {
    const client = ctx.oidc.client!;
    const meta = requestMeta(ctx);
    const learned: DenialContext = {};
    const params = ctx.oidc.params as RawParams;
    const impersonating = params.subject_token_type === TOKEN_TYPES.accountId;
    try {
      const request = parseTokenExchangeRequest(params);
      const context = { client: await exchangeClient(deps.stores, client), ...meta, now: new Date() };
      const targets = targetsFor(deps.resourceServers, behalfClient(client).allowedResources);
      const issuer = oidcTokenIssuer(ctx);
      const response =
        request.mode === 'impersonation'
          ? await exchangeOnBehalf({ accounts: directory, tokens: deps.tokens, onBehalf: deps.onBehalf, targets, issuer, audit: deps.audit, limits: deps.limits, requireSecondFactor: deps.requireSecondFactor }, request, context, learned)
          : await exchangeDelegation(delegationDeps(deps, targets, issuer), request, context, learned);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = response;
    } catch (error) {
      handledExchanges.add(ctx);
      if (!(error instanceof TokenExchangeError)) {
        deps.logger.error('token exchange failed', { error, clientId: client.clientId });
        throw unavailable(error);
      }
      // Every refusal is in the trail, with whatever was learned before it.
      await deps.audit.record({
        type: impersonating ? 'on_behalf.denied' : 'delegation.denied',
        actor: learned.agentId ?? `client:${client.clientId}`,
        subject: learned.customerId ?? null,
        clientId: client.clientId,
        sessionId: learned.sessionId ?? null,
        ...meta,
        details: { error: error.code, reason: error.reason, description: error.description },
      });
      throw new errors.CustomOIDCProviderError(error.code, error.description);
    }
  };
}

/**
 * Anything but a policy refusal (the database or the audit trail failing) is
 * a 503 the client may retry: nothing was issued, and nothing half-done stays.
 */
function unavailable(cause: unknown): Error {
  const error = new errors.CustomOIDCProviderError('temporarily_unavailable', 'the exchange could not be completed and recorded right now; no token was issued; try again');
  Object.assign(error, { status: 503, statusCode: 503, cause });
  return error;
}

export { GRANT_TYPE };
