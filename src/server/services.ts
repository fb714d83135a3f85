/** Database and domain services, without HTTP: what the CLI, the seed and the HTTP server share. */
import type { DataSource } from 'typeorm';
import type { Config } from '../../config/load.js';
import { AccountService } from '../accounts/account-service.js';
import { StoreService } from '../accounts/store-service.js';
import { TotpService } from '../accounts/totp-service.js';
import { AuditService, BEHALF_AUDIT_TABLE } from './audit-trail/audit-service.js';
import { externalCheckpointArchive, externalTreeHeadArchive } from './audit-trail/external-checkpoint-archive.js';
import { ClientRepository } from './clients/client-repository.js';
import { ResourceServerRegistry } from './clients/resource-servers.js';
import { connectDatabase, type Database } from './db/connect.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createSealer, type Sealer } from './secrets/sealer.js';
import { createOutbox } from './mail/mail-module.js';
import type { MailOutbox } from './mail/outbox.js';

export interface Services {
  config: Config;
  logger: Logger;
  database: Database;
  dataSource: DataSource;
  sealer: Sealer;
  accounts: AccountService;
  stores: StoreService;
  clients: ClientRepository;
  resourceServers: ResourceServerRegistry;
  audit: AuditService;
  totp: TotpService;
  /** Mail is written here, in the transaction of what causes it, and sent by the worker (mail/). */
  mail: MailOutbox;
}

/** Connects (and migrates) the database and builds the services on it (the CLI stops here). */
export async function createServices(config: Config, logger = createLogger(config.log.level)): Promise<Services> {
  const sealer = createSealer(config.secrets.keyEncryptionKeys);
  const database = await connectDatabase(config, logger);
  const { dataSource } = database;
  return {
    config,
    logger,
    database,
    dataSource,
    sealer,
    accounts: new AccountService(dataSource, {
      bcryptCost: config.security.bcryptCost,
      lockout: { threshold: config.security.lockoutThreshold, lockoutSeconds: config.security.lockoutSeconds },
    }),
    stores: new StoreService(dataSource),
    clients: new ClientRepository(dataSource, sealer),
    resourceServers: new ResourceServerRegistry(dataSource),
    audit: new AuditService(
      dataSource,
      sealer,
      config.issuer,
      logger,
      externalCheckpointArchive(config, BEHALF_AUDIT_TABLE),
      externalTreeHeadArchive(config, BEHALF_AUDIT_TABLE),
      config.audit.sequencer,
    ),
    totp: new TotpService(dataSource, sealer),
    mail: createOutbox(dataSource, sealer, config, logger),
  };
}
