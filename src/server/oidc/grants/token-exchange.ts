/**
 * The RFC 8693 token-exchange grant, as oidc-provider's own grants are built
 * (`lib/actions/grants/*`): the grant type, its parameters, and a handler.
 * It turns oidc-provider's request context into the flow's ports, runs the
 * on-behalf or delegation flow (src/token-exchange/), and maps refusals onto
 * OAuth errors, each audited. The request is marked as audited on its own
 * context, so the provider-level audit does not record it again.
 */
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { StoreService } from '../../../accounts/store-service.js';
import type { AccountService } from '../../../accounts/account-service.js';
import { tokenReference } from '../../../audit/token-reference.js';
import { exchangeDelegation, type DelegationDeps, type DelegationIssuer } from '../../../token-exchange/delegation.js';
import { TokenExchangeError, invalidTarget } from '../../../token-exchange/errors.js';
import { exchangeOnBehalf, type DenialContext } from '../../../token-exchange/on-behalf.js';
import type { OnBehalfLimits } from '../../../token-exchange/on-behalf-policy.js';
import { parseTokenExchangeRequest, type RawParams } from '../../../token-exchange/parse.js';
import type { ResourceTarget, Targets, TokenReader } from '../../../token-exchange/ports.js';
import { GRANT_TYPE, TOKEN_TYPES } from '../../../token-exchange/types.js';
import type { Logger } from '../../observability/logger.js';
import type { AuditService } from '../../audit-trail/audit-service.js';
import { requestMeta } from '../../audit-trail/request-meta.js';
import type { ResourceServerRegistry } from '../../clients/resource-servers.js';
import type { OnBehalfRepository } from '../../on-behalf/on-behalf-repository.js';
import { accountDirectory } from '../../exchange-adapters/account-directory.js';
import { exchangeClient } from '../../exchange-adapters/exchange-client.js';
import { markAudited } from '../audit/audited-here.js';
import { behalfClient } from '../client-metadata.js';
import { oidcTokenIssuer, type RegisterTokenStatus } from './token-exchange-issuer.js';
import { tokenRequestDpopProof } from '../provider-internals.js';

export const grantType = GRANT_TYPE;
export const parameters = [
  'subject_token',
  'subject_token_type',
  'actor_token',
  'actor_token_type',
  'requested_token_type',
  'resource',
  'audience',
  'scope',
];
/** RFC 8693 §2.1: resource and audience may be given more than once. */
export const dupes = ['resource', 'audience'];

export interface TokenExchangeDependencies {
  accounts: AccountService;
  stores: StoreService;
  resourceServers: ResourceServerRegistry;
  onBehalf: OnBehalfRepository;
  tokens: TokenReader;
  audit: AuditService;
  limits: OnBehalfLimits;
  /** `security.requireSecondFactorForLoginOnBehalf`: re-authentications without `otp` open nothing. */
  requireSecondFactor: boolean;
  maxChainDepth: number;
  /** Lifetime of a resource server's tokens when it sets none (config tokens.resourceAccessTokenTtl). */
  resourceAccessTokenTtl: number;
  logger: Logger;
  /** Lists each JWT access token before it is issued (token status list). */
  registerStatus?: RegisterTokenStatus;
}

/** The resource servers this client may get tokens for, by URI or alias. */
function targetsFor(registry: ResourceServerRegistry, allowed: string[]): Targets {
  return {
    find(value) {
      const server = registry.find(value);
      if (!server) return undefined;
      if (!allowed.includes(server.identifier))
        throw invalidTarget(`this client may not get tokens for ${server.identifier}`, 'target_not_allowed');
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

export function buildHandler(deps: TokenExchangeDependencies) {
  const directory = accountDirectory(deps.accounts);

  return async function tokenExchange(ctx: KoaContextWithOIDC): Promise<void> {
    // This grant records its own outcome (issued or denied, in its own transaction).
    markAudited(ctx);
    const client = ctx.oidc.client!;
    const meta = requestMeta(ctx);
    const learned: DenialContext = {};
    const params = ctx.oidc.params as RawParams;
    const onBehalfRequest = params.subject_token_type === TOKEN_TYPES.accountId;
    try {
      // RFC 9449 §5: a DPoP proof is checked (and its jti spent) before anything else; the flows see its key only.
      const proof = await tokenRequestDpopProof(ctx);
      const request = parseTokenExchangeRequest(params);
      const context = {
        client: await exchangeClient(deps.stores, behalfClient(client)),
        ...meta,
        now: new Date(),
        ...(proof ? { proof } : {}),
      };
      const targets = targetsFor(deps.resourceServers, behalfClient(client).allowedResources);
      const issuer = oidcTokenIssuer(ctx, deps.registerStatus);
      const response =
        request.mode === 'on_behalf'
          ? await exchangeOnBehalf(
              {
                accounts: directory,
                tokens: deps.tokens,
                onBehalf: deps.onBehalf,
                targets,
                issuer,
                audit: deps.audit,
                limits: deps.limits,
                requireSecondFactor: deps.requireSecondFactor,
              },
              request,
              context,
              learned,
            )
          : await exchangeDelegation(delegationDeps(deps, targets, issuer), request, context, learned);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = response;
    } catch (error) {
      // oidc-provider's own refusal of the DPoP proof (invalid_dpop_proof, use_dpop_nonce) is the client's to see.
      const proofRefused = error instanceof errors.OIDCProviderError && error.expose;
      if (!(error instanceof TokenExchangeError) && !proofRefused) {
        deps.logger.error('token exchange failed', { error, clientId: client.clientId });
        throw unavailable(error);
      }
      const refusal =
        error instanceof TokenExchangeError
          ? { error: error.code, reason: error.reason, description: error.description }
          : { error: error.error, reason: 'dpop_proof_refused', description: error.error_description ?? error.message };
      // Every refusal is in the trail, with whatever was learned before it.
      await deps.audit.record({
        type: onBehalfRequest ? 'on_behalf.denied' : 'delegation.denied',
        actor: learned.agentId ?? `client:${client.clientId}`,
        subject: learned.customerId ?? null,
        clientId: client.clientId,
        sessionId: learned.sessionId ?? null,
        ...meta,
        details: refusal,
      });
      if (proofRefused) throw error;
      throw new errors.CustomOIDCProviderError(refusal.error, refusal.description);
    }
  };
}

/**
 * Anything but a policy refusal (the database or the audit trail failing) is
 * a 503 the client may retry: nothing was issued, and nothing half-done stays.
 */
function unavailable(cause: unknown): Error {
  const error = new errors.CustomOIDCProviderError(
    'temporarily_unavailable',
    'the exchange could not be completed and recorded right now; no token was issued; try again',
  );
  Object.assign(error, { status: 503, statusCode: 503, cause });
  return error;
}
