/**
 * Mail, assembled: the outbox every service writes to, and (when mail is on
 * and a relay is configured) the worker that sends it over SMTP.
 */
import type { DataSource } from 'typeorm';
import type { Config } from '../../../config/load.js';
import type { Logger } from '../observability/logger.js';
import type { Sealer } from '../secrets/sealer.js';
import { MailOutbox } from './outbox.js';
import { MailTemplates } from './templates.js';
import { smtpTransport } from './transport.js';
import { MailWorker } from './worker.js';

export function createOutbox(dataSource: DataSource, sealer: Sealer, config: Config, logger: Logger): MailOutbox {
  return new MailOutbox(dataSource, sealer, new MailTemplates(config.env !== 'development'), logger, {
    retryBaseSeconds: config.mail.retryBaseSeconds,
    maxAttempts: config.mail.maxAttempts,
  });
}

/** The sending side; undefined when mail is off, or on without a relay (mail then waits in the outbox). */
export function createMailWorker(outbox: MailOutbox, config: Config, logger: Logger): MailWorker | undefined {
  if (!config.mail.enabled) return undefined;
  if (!config.mail.smtpUrl) {
    logger.warn('mail is on but no SMTP relay is configured (SMTP_URL): mail waits in the outbox', { event: 'mail.no_relay' });
    return undefined;
  }
  return new MailWorker(outbox, smtpTransport(config.mail.smtpUrl, config.mail.from), logger, config.mail.pollIntervalSeconds);
}
