/**
 * The Koa application: operations endpoints, Behalf's interaction pages, then
 * oidc-provider for everything else (discovery, JWKS, authorize, token, …).
 */
import Koa from 'koa';
import helmet from 'koa-helmet';
import type { DataSource } from 'typeorm';
import type { Config } from '../../config/load.js';
import type { AccountService } from '../accounts/account-service.js';
import type { StoreService } from '../accounts/store-service.js';
import { interactionRoutes } from './interactions/routes.js';
import { opsRoutes } from './http/ops-routes.js';
import { requestContextMiddleware } from './http/request-context.js';
import type { Logger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import type { OidcModule } from './oidc/oidc-module.js';
import type { Renderer } from './views/renderer.js';
import type { AuditService } from './audit-trail/audit-service.js';
import { auditAdminRoutes } from './admin/audit-routes.js';
import { onBehalfRoutes } from './on-behalf/routes.js';
import { tokenEndpointLimits } from './http/token-limits.js';
import type { RateLimits } from './http/rate-limits.js';
import { sessionAdminRoutes } from './admin/session-routes.js';
import { agentSessionRoutes } from './admin/agent-session-routes.js';
import { accountRoutes } from './account-api/routes.js';
import type { OnBehalfRepository } from './on-behalf/on-behalf-repository.js';
import { directoryRoutes } from './directory/routes.js';
import { DirectoryQuery } from './directory/directory-query.js';
import type { TotpService } from '../accounts/totp-service.js';
import { SecondFactorPending } from './interactions/second-factor-pending.js';
import { PeopleDirectory } from './admin/people-directory.js';
import { peopleAdminRoutes, storesAdminRoutes } from './admin/people-routes.js';
import { consoleRoutes } from './console/routes.js';
import type { Sealer } from './secrets/sealer.js';
import type { MailOutbox } from './mail/outbox.js';
import { createCustomers } from './customers/customers-module.js';
import type { ClientRepository } from './clients/client-repository.js';
import type { ResourceServerRegistry } from './clients/resource-servers.js';
import { clientAdministrationRoutes } from './admin/client-administration.js';
import type { StatusListTokens } from './token-status/status-list-token.js';
import { statusListRoutes } from './token-status/status-list-routes.js';

export interface AppDependencies {
  config: Config;
  dataSource: DataSource;
  oidc: OidcModule;
  accounts: AccountService;
  stores: StoreService;
  renderer: Renderer;
  logger: Logger;
  metrics: Metrics;
  audit: AuditService;
  onBehalf: OnBehalfRepository;
  limits: RateLimits;
  totp: TotpService;
  sealer: Sealer;
  mail: MailOutbox;
  clients: ClientRepository;
  resourceServers: ResourceServerRegistry;
  /** The token status lists (GET /status-lists/:id). */
  statusLists?: StatusListTokens;
  isShuttingDown: () => boolean;
}

export function createApp(deps: AppDependencies): Koa {
  const { config } = deps;
  const app = new Koa({ proxy: config.proxy, keys: config.secrets.cookieKeys });
  app.silent = true;

  app.use(requestContextMiddleware(deps.logger, deps.metrics));
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          // oidc-provider adds the hash of its own self-submitting forms (form_post,
          // session switches) to script-src; without the directive it has nowhere to go.
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          baseUri: ["'none'"],
          frameAncestors: ["'none'"],
          // form-action is left out on purpose: browsers apply it to the redirect
          // that ends an interaction, which goes to the client's own origin.
        },
      },
      strictTransportSecurity: config.issuer.startsWith('https://') ? { maxAge: 31_536_000, includeSubDomains: true } : false,
      crossOriginResourcePolicy: false,
      referrerPolicy: { policy: 'no-referrer' },
    }),
  );

  const ops = opsRoutes(deps.dataSource, deps.metrics, deps.isShuttingDown, deps.limits.readiness);
  app.use(ops.routes()).use(ops.allowedMethods());

  const customers = createCustomers({ ...deps, oidc: deps.oidc.port });
  for (const router of customers.routers) app.use(router.routes()).use(router.allowedMethods());

  const interactions = interactionRoutes({
    oidc: deps.oidc.port,
    accounts: deps.accounts,
    stores: deps.stores,
    renderer: deps.renderer,
    logger: deps.logger,
    audit: deps.audit,
    onBehalf: deps.onBehalf,
    limits: deps.limits,
    totp: deps.totp,
    pending: new SecondFactorPending(deps.dataSource),
    requireSecondFactorForLoginOnBehalf: config.security.requireSecondFactorForLoginOnBehalf,
    secureCookies: config.issuer.startsWith('https://'),
    maxBodyBytes: config.security.maxBodyBytes,
    maxConcurrentSessions: config.onBehalf.maxConcurrentSessions,
    ...(config.onBehalf.agentSessionsUrl ? { agentSessionsUrl: config.onBehalf.agentSessionsUrl } : {}),
    selfService: customers.hooks,
    approvals: customers.gate,
  });
  app.use(interactions.routes()).use(interactions.allowedMethods());

  const people = new PeopleDirectory(deps.dataSource);
  const audit = auditAdminRoutes({
    oidc: deps.oidc.port,
    accounts: deps.accounts,
    audit: deps.audit,
    logger: deps.logger,
    people,
    stores: deps.stores,
  });
  app.use(audit.routes()).use(audit.allowedMethods());

  const sessionAdmin = sessionAdminRoutes({
    oidc: deps.oidc.port,
    accounts: deps.accounts,
    sessions: deps.onBehalf,
    dataSource: deps.dataSource,
    stores: deps.stores,
    people,
  });
  app.use(sessionAdmin.routes()).use(sessionAdmin.allowedMethods());

  const peopleAdmin = peopleAdminRoutes({
    oidc: deps.oidc.port,
    accounts: deps.accounts,
    stores: deps.stores,
    totp: deps.totp,
    audit: deps.audit,
    sessions: deps.onBehalf,
    people,
    maxBodyBytes: config.security.maxBodyBytes,
  });
  app.use(peopleAdmin.routes()).use(peopleAdmin.allowedMethods());
  const storesAdmin = storesAdminRoutes({ oidc: deps.oidc.port, accounts: deps.accounts, stores: deps.stores });
  app.use(storesAdmin.routes()).use(storesAdmin.allowedMethods());

  const agentSessions = agentSessionRoutes({
    oidc: deps.oidc.port,
    accounts: deps.accounts,
    sessions: deps.onBehalf,
    dataSource: deps.dataSource,
    maxConcurrentSessions: config.onBehalf.maxConcurrentSessions,
  });
  app.use(agentSessions.routes()).use(agentSessions.allowedMethods());

  const directory = directoryRoutes({ oidc: deps.oidc.port, accounts: deps.accounts, query: new DirectoryQuery(deps.dataSource) });
  app.use(directory.routes()).use(directory.allowedMethods());

  const account = accountRoutes({ oidc: deps.oidc.port, accounts: deps.accounts, sessions: deps.onBehalf, audit: deps.audit });
  app.use(account.routes()).use(account.allowedMethods());

  const sessions = onBehalfRoutes({ oidc: deps.oidc.port, sessions: deps.onBehalf, maxBodyBytes: config.security.maxBodyBytes });
  app.use(sessions.routes()).use(sessions.allowedMethods());

  const adminConsole = consoleRoutes({
    issuer: config.issuer,
    apiBaseUrl: config.issuer,
    secrets: config.secrets,
    sealer: deps.sealer,
    logger: deps.logger,
    requireSecondFactor: config.security.requireSecondFactorForAdminConsole,
    maxBodyBytes: config.security.maxBodyBytes,
  });
  app.use(adminConsole.routes()).use(adminConsole.allowedMethods());
  for (const router of clientAdministrationRoutes(deps)) app.use(router.routes()).use(router.allowedMethods());
  if (deps.statusLists) {
    const statusLists = statusListRoutes(deps.statusLists);
    app.use(statusLists.routes()).use(statusLists.allowedMethods());
  }

  app.use(tokenEndpointLimits(deps.limits));

  // Everything else is the OIDC provider's (discovery, JWKS, authorize, token, …).
  app.use(deps.oidc.middleware);

  return app;
}
