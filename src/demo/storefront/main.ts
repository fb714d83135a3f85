/**
 * Starts the storefront demo on its own (Behalf and the orders API must be
 * running):
 *   npm run build && node dist/src/demo/storefront/main.js
 * Settings from the environment: see config.ts.
 */
import { createStorefront } from './app.js';
import { loadStorefrontConfig, StorefrontConfigError } from './config.js';

async function main(): Promise<void> {
  const config = loadStorefrontConfig();
  const storefront = createStorefront({
    issuer: config.issuer,
    ordersApiUrl: config.ordersApiUrl,
    ordersResource: config.ordersResource,
    clientSecret: config.clientSecret,
    publicUrl: config.publicUrl,
    cookieKeys: config.cookieKeys,
    statusCacheSeconds: config.statusCacheSeconds,
    trustProxy: config.trustProxy,
    portalUrl: config.portalUrl,
  });
  const { url } = await storefront.listen(config.port, config.host);
  console.log(
    `Storefront listening on ${url}: ${config.publicUrl}/electronics/ and ${config.publicUrl}/books/ (issuer ${config.issuer}, orders API ${config.ordersApiUrl})`,
  );

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await storefront.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  console.error(error instanceof StorefrontConfigError ? error.message : error);
  process.exit(1);
});
