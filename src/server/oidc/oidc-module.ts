/**
 * oidc-provider, assembled: the provider (rebuilt on key rotation), its
 * audit middleware and extension grants, its logs and metrics, the OIDC port
 * the rest of Behalf uses, and the Koa middleware that hands it every request
 * Behalf's own routes did not answer.
 */
import type { Middleware } from 'koa';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Config } from '../../../config/load.js';
import type { Services } from '../services.js';
import type { Metrics } from '../observability/metrics.js';
import { onceEvery } from '../observability/once-every.js';
import type { Renderer } from '../views/renderer.js';
import { createAdapterFactory } from './adapter.js';
import { exchangeRefusalAudit } from './audit/exchange-refusals.js';
import { implicitConsentRecorder, reauthScopeRefusalRecorder } from './audit/consent.js';
import { logoutAudit, type LogoutListener } from './audit/logout.js';
import { tokenIssuedAudit } from './audit/token-issued.js';
import { tokenRevokedAudit } from './audit/token-revoked.js';
import { CONSOLE_CLIENT_ID } from '../console/console-client.js';
import { tokenResponseScope } from './token-response-scope.js';
import { databaseOutageMiddleware, isDatabaseUnavailable, watchDatabaseOutages } from './database-outage.js';
import * as tokenExchange from './grants/token-exchange.js';
import type { OidcPort } from './port.js';
import { buildProvider } from './provider.js';
import { ProviderHolder } from './provider-holder.js';
import { providerPort } from './provider-port.js';
import { InitialAccessTokenPolicies } from '../clients/initial-access-tokens.js';
import { registeredClientStore, registrationAudit, registrationFeatures, type RegistrationDependencies } from './registration.js';
import { ownJwtEndpoints } from './own-jwt-endpoints.js';
import { statusClaimCustomizer } from './token-status-claim.js';
import type { TokenStatusService } from '../token-status/token-status-service.js';

/** What the rest of Behalf plugs into the provider; given the port, since it needs it too. */
export interface OidcExtensions {
  exchange: tokenExchange.TokenExchangeDependencies;
  logoutListeners: LogoutListener[];
  isReauthGrant(grantId: string): Promise<boolean>;
}

export interface OidcModule {
  port: OidcPort;
  /** Answers everything Behalf's own routes did not: discovery, JWKS, authorize, token, … */
  middleware: Middleware;
  start(): Promise<void>;
  /** Picks up rotated keys and changed resource servers now (tests; instances also poll). */
  refresh(): Promise<void>;
  stop(): void;
}

export function createOidc(
  options: { config: Config; services: Services; renderer: Renderer; metrics: Metrics; tokenStatus: TokenStatusService },
  extend: (port: OidcPort) => OidcExtensions,
): OidcModule {
  const { config, services, renderer, metrics } = options;
  const { logger, audit } = services;
  const registration: RegistrationDependencies = {
    clients: services.clients,
    resourceServers: services.resourceServers,
    policies: new InitialAccessTokenPolicies(services.dataSource),
    audit,
  };
  const adapter = createAdapterFactory(services.dataSource, {
    findClient: (clientId) => services.clients.findForProvider(clientId),
    ...registeredClientStore(services.clients),
    onGrantRevoked: (grantId) => options.tokenStatus.revokeGrant(grantId),
  });
  // The port asks for the current provider at each call: the holder swaps it on key rotation.
  const holder: ProviderHolder = new ProviderHolder({
    dataSource: services.dataSource,
    sealer: services.sealer,
    resourceServers: services.resourceServers,
    logger,
    refreshIntervalMs: config.keys.refreshIntervalSeconds * 1000,
    clientIds: async () => [...(await services.clients.ids()), ...config.clients.map((client) => client.client_id), CONSOLE_CLIENT_ID],
    build: (keystore) =>
      buildProvider({
        config,
        jwks: keystore.jwks as never,
        adapter,
        accounts: services.accounts,
        stores: services.stores,
        resourceServers: services.resourceServers,
        renderer,
        previousClientSecret: (clientId) => services.clients.previousSecret(clientId),
        registration: registrationFeatures(registration),
        use: [
          // Outermost: a database outage inside oidc-provider is a 503 to retry, not a 500.
          databaseOutageMiddleware(),
          tokenIssuedAudit(audit, (rows) => options.tokenStatus.insert(rows), logger),
          // Inside the audit: it records the answer with the granted scope (or no token, if refused).
          tokenResponseScope(),
          exchangeRefusalAudit(audit, logger),
          tokenRevokedAudit(audit, logger),
          logoutAudit(audit, logger, extensions.logoutListeners),
          registrationAudit(registration),
          ownJwtEndpoints(options.tokenStatus, logger),
        ],
        jwtCustomizer: statusClaimCustomizer((entry) => options.tokenStatus.register(entry)),
        onImplicitConsent: implicitConsentRecorder(audit),
        onReauthScopeRefused: reauthScopeRefusalRecorder(audit),
        isReauthGrant: (grantId) => extensions.isReauthGrant(grantId),
        grants: [
          {
            name: tokenExchange.grantType,
            handler: tokenExchange.buildHandler(extensions.exchange),
            parameters: tokenExchange.parameters,
            dupes: tokenExchange.dupes,
          },
        ],
      }),
  });
  const port = providerPort(() => holder.current);
  const extensions = extend(port);

  // One per instance, not per provider (rebuilt on key rotation): an outage is a line every few seconds, not one per request.
  const outageLogged = onceEvery(10_000, (failed: number, error: unknown) =>
    logger.warn('database unreachable: requests answered with 503', {
      event: 'db.unreachable',
      failed,
      error: error instanceof Error ? error.message : String(error),
    }),
  );
  holder.onProvider(observe);

  const callbacks = new WeakMap<object, ReturnType<Koa['callback']>>();
  const middleware: Middleware = async function oidcProvider(ctx) {
    const provider = holder.current;
    let callback = callbacks.get(provider);
    if (!callback) {
      callback = provider.callback() as ReturnType<Koa['callback']>;
      callbacks.set(provider, callback);
    }
    // oidc-provider answers on the raw response.
    ctx.respond = false;
    await callback(ctx.req, ctx.res);
  };

  return { port, middleware, start: () => holder.start(), refresh: () => holder.refresh(), stop: () => holder.stop() };

  /** Logs and metrics of each provider the holder builds. */
  function observe(provider: Provider): void {
    watchDatabaseOutages(provider);
    provider.on('server_error', (_ctx, error) =>
      isDatabaseUnavailable(error) ? outageLogged(error) : logger.error('oidc-provider server error', { error }),
    );
    for (const event of [
      'grant.success',
      'grant.error',
      'authorization.success',
      'authorization.error',
      'access_token.issued',
      'end_session.success',
      'introspection.error',
      'revocation.error',
    ]) {
      provider.on(event as 'grant.success', () => metrics.providerEvents.inc({ event }));
    }
    provider.on('grant.error', (_ctx, error) =>
      logger.info('token request refused', { event: 'token.refused', error: (error as Error).message }),
    );
    provider.on('authorization.error', (_ctx, error) =>
      logger.info('authorization request refused', { event: 'authorization.refused', error: (error as Error).message }),
    );
  }
}
