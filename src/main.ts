/**
 * `npm start`: Behalf on the configured (or embedded) PostgreSQL.
 * A configuration or start-up mistake ends the process with one clear line.
 */
import { createServer } from 'node:http';
import { ConfigError, loadConfig } from '../config/load.js';
import { createBehalf } from './server/system.js';
import { createLogger } from './server/observability/logger.js';
import { describeStartupFailure } from './server/startup-errors.js';
import { printDevelopmentBanner } from './server/banner.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.log.level);
  const behalf = await createBehalf(config, logger);
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 20_000 });
  behalf.attach(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  logger.info('Behalf started', { event: 'server.started', issuer: config.issuer, listen: `${config.host}:${config.port}`, env: config.env, database: behalf.database.embedded ? 'embedded' : 'external' });

  if (config.env === 'development') printDevelopmentBanner(config, behalf.database.embedded);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { event: 'server.stopping', signal });
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    await behalf.close();
    logger.info('stopped', { event: 'server.stopped' });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`behalf: ${describeStartupFailure(error)}\n`);
  process.exit(error instanceof ConfigError ? 78 : 1);
});
