/**
 * The whole demo system for browser tests: Behalf, the orders API, the portal
 * and the storefront, each on a free port of this machine, with the demo
 * clients' redirect URIs re-registered for those ports (on this run's own
 * database clone), so nothing depends on 4000–4003 being free.
 */
import { loadConfig } from '../../config/load.js';
import { createOrdersApi, type OrdersApi } from '../../src/demo/orders-api/app.js';
import { createPortal, type Portal } from '../../src/demo/portal/app.js';
import { createStorefront, type Storefront } from '../../src/demo/storefront/app.js';
import { freePort } from '../../src/server/db/embedded.js';
import { createServices } from '../../src/server/system.js';
import { startBehalf, type RunningBehalf } from './behalf.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface RunningSystem {
  behalf: RunningBehalf;
  portalUrl: string;
  storefrontUrl: string;
  ordersUrl: string;
  orders: OrdersApi;
  stop(): Promise<void>;
}

async function reRegister(db: TestDatabase, portalUrl: string, storefrontUrl: string): Promise<void> {
  const services = await createServices(loadConfig({ env: { NODE_ENV: 'test', DATABASE_URL: db.url } }));
  try {
    const update = async (clientId: string, redirect: string, postLogout: string) => {
      const { client_secret: secret, ...metadata } = (await services.clients.findForProvider(clientId))! as Record<string, unknown>;
      await services.clients.save(
        {
          ...(metadata as { client_id: string; client_kind: 'storefront' }),
          redirect_uris: [redirect],
          post_logout_redirect_uris: [postLogout],
        },
        String(secret),
      );
    };
    await update('portal', `${portalUrl}/callback`, `${portalUrl}/`);
    for (const store of ['electronics', 'books'])
      await update(`storefront-${store}`, `${storefrontUrl}/${store}/callback`, `${storefrontUrl}/${store}/`);
  } finally {
    await services.database.close();
  }
}

export interface SystemOptions {
  /** Behalf configuration overrides (say, a lower session limit). */
  behalf?: Record<string, unknown>;
}

export async function startSystem(options: SystemOptions = {}): Promise<RunningSystem> {
  const db = await createTestDatabase();
  const [portalPort, storefrontPort, ordersPort] = [await freePort(), await freePort(), await freePort()];
  const portalUrl = `http://localhost:${portalPort}`;
  const storefrontUrl = `http://localhost:${storefrontPort}`;
  await reRegister(db, portalUrl, storefrontUrl);
  // Behalf's refusal of the session limit links to the portal's "My on-behalf sessions".
  const onBehalf = {
    agentSessionsUrl: `${portalUrl}/my-sessions`,
    ...((options.behalf?.onBehalf as Record<string, unknown> | undefined) ?? {}),
  };
  const behalf = await startBehalf({ database: db, overrides: { ...options.behalf, onBehalf } });
  const orders = await createOrdersApi({
    issuer: behalf.issuer,
    databaseUrl: db.url,
    corsOrigins: [storefrontUrl],
    sessionStatusCacheSeconds: 1,
  });
  const ordersUrl = (await orders.listen(ordersPort, '127.0.0.1')).url;
  const portal: Portal = createPortal({ issuer: behalf.issuer, publicUrl: portalUrl, storefrontUrl });
  await portal.listen(portalPort, '127.0.0.1');
  const storefront: Storefront = createStorefront({
    issuer: behalf.issuer,
    ordersApiUrl: ordersUrl,
    clientSecret: 'storefront-demo-secret',
    publicUrl: storefrontUrl,
    cookieKeys: ['e2e-cookie-key-e2e-cookie-key-e2e-cookie-key'],
    statusCacheSeconds: 1,
    portalUrl,
  });
  await storefront.listen(storefrontPort, '127.0.0.1');
  return {
    behalf,
    portalUrl,
    storefrontUrl,
    ordersUrl,
    orders,
    async stop() {
      await storefront.close();
      await portal.close();
      await orders.close();
      await behalf.stop();
      await db.drop();
    },
  };
}
