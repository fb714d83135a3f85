/**
 * Starts the portal on its own:
 *   ISSUER=http://localhost:4000 node dist/src/demo/portal/main.js
 * Settings: PORTAL_PORT (4002), PORTAL_HOST, PORTAL_URL, ISSUER,
 * PORTAL_CLIENT_ID, PORTAL_CLIENT_SECRET, STOREFRONT_URL, PORTAL_COOKIE_KEYS,
 * PORTAL_TRUST_PROXY (see config.ts).
 */
import { createPortal } from './app.js';
import { loadPortalConfig, PortalConfigError } from './config.js';

async function main(): Promise<void> {
  const config = loadPortalConfig();
  const portal = createPortal(config);
  await portal.listen(config.port, config.host);
  console.log(
    `Portal listening on ${config.publicUrl} (issuer ${config.issuer}, client ${config.clientId}, storefront ${config.storefrontUrl})`,
  );

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await portal.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  // A configuration mistake is one line; anything else keeps its stack for whoever debugs it.
  console.error(error instanceof PortalConfigError ? error.message : error);
  process.exit(1);
});
