/**
 * The composition root: database, services, keys, provider and HTTP app,
 * built from a validated configuration. `main.ts` and the tests both use it.
 */
export { createServices, type Services } from './services.js';
import type { Server } from 'node:http';
import type Koa from 'koa';
import { usesDevelopmentSecrets, type Config } from '../../config/load.js';
import { createApp } from './app.js';
import type { ClientRepository } from './clients/client-repository.js';
import { guardRuntimeRole } from './db/runtime-role-guard.js';
import { ensureSigningKeys } from './keys/key-store.js';
import { createLogger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { deleteExpiredPayloads } from './oidc/adapter.js';
import { StartupError } from './oidc/provider-holder.js';
import { createOidc, type OidcModule } from './oidc/oidc-module.js';
import type { OidcPort } from './oidc/port.js';
import { Renderer } from './views/renderer.js';
import { createServices, type Services } from './services.js';
import { createOnBehalf, type OnBehalfModule } from './on-behalf/on-behalf-module.js';
import { createRateLimits, type RateLimits } from './http/rate-limits.js';
import type { OnBehalfRepository } from './on-behalf/on-behalf-repository.js';
import { DEMO_SECRETS } from './seed/demo-data.js';
import { seedDemoIfEmpty } from './seed/seed-demo.js';
import { createMailWorker } from './mail/mail-module.js';
import type { MailWorker } from './mail/worker.js';
import { TokenStatusService } from './token-status/token-status-service.js';
import { StatusListTokens } from './token-status/status-list-token.js';

export interface Behalf extends Services {
  app: Koa;
  metrics: Metrics;
  oidc: OidcModule;
  onBehalf: OnBehalfRepository;
  /** Sends the outbox over SMTP; undefined when mail is off or has no relay. */
  mailWorker: MailWorker | undefined;
  /** Serves the app on `server` until `close()`. */
  attach(server: Server): void;
  close(): Promise<void>;
}

export async function createBehalf(config: Config, logger = createLogger(config.log.level)): Promise<Behalf> {
  if (usesDevelopmentSecrets(config)) {
    logger.warn('USING PUBLIC DEVELOPMENT SECRETS: set KEY_ENCRYPTION_KEYS and COOKIE_KEYS before this holds real data', {
      event: 'config.insecure',
    });
  }
  const services = await createServices(config, logger);
  const { dataSource, sealer, clients } = services;
  let limits: RateLimits | undefined;
  try {
    await guardRuntimeRole(dataSource, config.env, logger);
    if (config.env === 'development' && config.demo.seedOnEmptyDatabase) {
      const seeded = await seedDemoIfEmpty(services);
      if (seeded) logger.info('empty database: demo data seeded', { event: 'seed.demo' });
    }
    if (config.env === 'production') await refuseDemoSecrets(clients);
    const created = await ensureSigningKeys(dataSource, sealer);
    for (const key of created) logger.info('signing key generated', { event: 'admin.key.generated', kid: key.kid, alg: key.alg });

    const metrics = createMetrics({ auditPending: () => services.audit.events.pending() });
    const renderer = new Renderer(config.env !== 'development');
    let onBehalf!: OnBehalfModule;
    const tokenStatus = new TokenStatusService(dataSource, config.issuer, services.audit);
    const oidc = createOidc({ config, services, renderer, metrics, tokenStatus }, (port: OidcPort) => {
      onBehalf = createOnBehalf(services, port, config, tokenStatus);
      return {
        exchange: onBehalf.exchange,
        logoutListeners: [onBehalf.endOnLogout],
        isReauthGrant: (grantId) => onBehalf.sessions.isReauthGrant(grantId),
      };
    });
    await oidc.start();

    let shuttingDown = false;
    limits = await createRateLimits(dataSource, config, { logger });
    const rateLimits = limits;
    const app = createApp({
      config,
      dataSource,
      oidc,
      accounts: services.accounts,
      stores: services.stores,
      renderer,
      logger,
      metrics,
      audit: services.audit,
      onBehalf: onBehalf.sessions,
      limits,
      totp: services.totp,
      sealer: services.sealer,
      mail: services.mail,
      clients: services.clients,
      resourceServers: services.resourceServers,
      statusLists: new StatusListTokens(dataSource, sealer, config.issuer),
      isShuttingDown: () => shuttingDown,
    });
    services.audit.startSequencer();
    onBehalf.start();
    const mailWorker = createMailWorker(services.mail, config, logger);
    mailWorker?.start();
    const cleanup = setInterval(() => {
      deleteExpiredPayloads(dataSource)
        .then((deleted) => deleted && logger.debug('expired oidc rows deleted', { deleted }))
        .catch((error) => logger.warn('expired-row cleanup failed', { error }));
    }, config.adapter.cleanupIntervalSeconds * 1000);
    cleanup.unref();

    const servers: Server[] = [];
    return {
      ...services,
      app,
      metrics,
      oidc,
      onBehalf: onBehalf.sessions,
      mailWorker,
      attach(server) {
        servers.push(server);
        server.on('request', app.callback());
      },
      async close() {
        shuttingDown = true;
        clearInterval(cleanup);
        oidc.stop();
        await services.audit.stop();
        onBehalf.stop();
        await mailWorker?.stop();
        await Promise.all(
          servers.map(
            (server) =>
              new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeIdleConnections?.();
              }),
          ),
        );
        await rateLimits.close();
        await services.database.close();
      },
    };
  } catch (error) {
    await limits?.close();
    await services.database.close();
    throw error;
  }
}

async function refuseDemoSecrets(clients: ClientRepository): Promise<void> {
  for (const client of await clients.list()) {
    const payload = await clients.findForProvider(client.clientId);
    if (payload?.client_secret && DEMO_SECRETS.includes(String(payload.client_secret))) {
      throw new StartupError(
        `client ${client.clientId} uses a public demo secret, refused in production; rotate it with \`npm run cli -- clients rotate-secret ${client.clientId}\``,
      );
    }
  }
}
