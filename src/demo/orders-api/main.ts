/**
 * Starts the demo Orders API on its own:
 *   ISSUER=http://localhost:4000 node dist/src/demo/orders-api/main.js
 * Database: ORDERS_DATABASE_URL, else DATABASE_URL, else an embedded
 * PostgreSQL under .data/orders-postgres.
 */
import { createOrdersApi } from './app.js';
import { loadOrdersConfig, OrdersConfigError } from './config.js';
import { startEmbeddedDatabase } from './embedded-db.js';

async function main(): Promise<void> {
  const config = loadOrdersConfig();
  const embedded = config.databaseUrl ? undefined : await startEmbeddedDatabase(config.embeddedDir);
  const api = await createOrdersApi({
    issuer: config.issuer,
    databaseUrl: config.databaseUrl ?? embedded!.url,
    resource: config.resource,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    corsOrigins: config.corsOrigins,
    sessionStatusCacheSeconds: config.sessionStatusCacheSeconds,
    statusList: config.statusList,
    maxBodyBytes: config.maxBodyBytes,
  }).catch(async (error: unknown) => {
    await embedded?.stop();
    throw error;
  });
  const { url } = await api.listen(config.port, config.host);
  console.log(
    `Orders API listening on ${url} (resource ${config.resource}, issuer ${config.issuer}${embedded ? ', embedded PostgreSQL in ' + config.embeddedDir : ''})`,
  );

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await api.close();
    await embedded?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  // A configuration mistake is one line; anything else keeps its stack for whoever debugs it.
  console.error(error instanceof OrdersConfigError ? error.message : error);
  process.exit(1);
});
