/**
 * The mail outbox. A mail is a row written in the same transaction as the
 * event that causes it (a reset request, an approval request, a session's
 * end), so it exists exactly when the event does and writing it never waits
 * for SMTP. The worker claims due rows with `FOR UPDATE SKIP LOCKED` (several
 * instances never send one mail twice at once), leases them for a while,
 * sends them, and reschedules failures with exponential backoff; a process
 * that stops mid-way leaves its rows to be picked up when the lease runs out.
 * The template data may hold a link with a secret: it is sealed at rest and
 * cleared once the mail is sent.
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from '../observability/logger.js';
import type { Sealer } from '../secrets/sealer.js';
import type { MailTemplateData, MailTemplateName, MailTemplates } from './templates.js';
import type { MailTransport } from './transport.js';

export interface OutboxOptions {
  retryBaseSeconds: number;
  maxAttempts: number;
  /** How long a claimed row is left to its sender before another worker may take it. */
  leaseSeconds?: number;
  batchSize?: number;
}

export interface QueuedMail<T extends MailTemplateName> {
  to: string;
  template: T;
  data: MailTemplateData[T];
  locale?: string;
}

interface OutboxRow {
  id: string;
  recipient: string;
  template: MailTemplateName;
  locale: string;
  payload: string | null;
  attempts: number;
}

/** Seconds until the next attempt after `attempts` failed ones: base·2^(n−1), at most an hour. */
export function retryDelaySeconds(attempts: number, baseSeconds: number): number {
  return Math.min(baseSeconds * 2 ** Math.max(attempts - 1, 0), 3600);
}

export class MailOutbox {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sealer: Sealer,
    private readonly templates: MailTemplates,
    private readonly logger: Logger,
    private readonly options: OutboxOptions,
  ) {}

  /** Queues a mail inside the caller's transaction (`manager`); it is sent after that commits. */
  async enqueue<T extends MailTemplateName>(manager: EntityManager, mail: QueuedMail<T>): Promise<string> {
    const payload = await this.sealer.seal(JSON.stringify(mail.data));
    const [row] = (await manager.query(
      `INSERT INTO mail_outbox (recipient, template, locale, payload) VALUES ($1, $2, $3, $4) RETURNING id`,
      [mail.to, mail.template, mail.locale ?? 'en', payload],
    )) as { id: string }[];
    return row!.id;
  }

  /** Claims due mail for this worker (skipping rows another worker holds) and leases it. */
  private async claim(): Promise<OutboxRow[]> {
    const lease = this.options.leaseSeconds ?? 120;
    return normaliseRows(
      await this.dataSource.query(
        `WITH due AS (
         SELECT id FROM mail_outbox
          WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
          ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
       )
       UPDATE mail_outbox m SET attempts = m.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
         FROM due WHERE m.id = due.id
       RETURNING m.id, m.recipient, m.template, m.locale, m.payload, m.attempts`,
        [this.options.batchSize ?? 20, lease],
      ),
    );
  }

  /** Sends what is due; returns how many were sent and how many failed this round. */
  async drain(transport: MailTransport): Promise<{ sent: number; failed: number }> {
    const rows = await this.claim();
    let sent = 0;
    let failed = 0;
    for (const row of rows) {
      try {
        if (!row.payload) throw new Error('the mail has no content');
        const data = JSON.parse(await this.sealer.open(row.payload)) as MailTemplateData[MailTemplateName];
        await transport.send(row.recipient, this.templates.render(row.template, data, row.locale));
        await this.dataSource.query(`UPDATE mail_outbox SET sent_at = now(), payload = NULL, last_error = NULL WHERE id = $1`, [row.id]);
        sent += 1;
      } catch (error) {
        failed += 1;
        await this.failed(row, error as Error);
      }
    }
    return { sent, failed };
  }

  private async failed(row: OutboxRow, error: Error): Promise<void> {
    const message = String(error.message ?? error).slice(0, 500);
    if (row.attempts >= this.options.maxAttempts) {
      this.logger.error('mail given up', {
        event: 'mail.failed',
        mail_id: row.id,
        template: row.template,
        attempts: row.attempts,
        error: message,
      });
      await this.dataSource.query(`UPDATE mail_outbox SET failed_at = now(), payload = NULL, last_error = $2 WHERE id = $1`, [
        row.id,
        message,
      ]);
      return;
    }
    const delay = retryDelaySeconds(row.attempts, this.options.retryBaseSeconds);
    this.logger.warn('mail not sent; retried later', {
      event: 'mail.retry',
      mail_id: row.id,
      template: row.template,
      attempts: row.attempts,
      retry_in_seconds: delay,
      error: message,
    });
    await this.dataSource.query(
      `UPDATE mail_outbox SET next_attempt_at = now() + make_interval(secs => $2), last_error = $3 WHERE id = $1`,
      [row.id, delay, message],
    );
  }

  /** Mail not yet sent (nor given up): for readiness, the CLI and tests. */
  async pending(): Promise<number> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*)::int AS n FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL`,
    )) as { n: number }[];
    return row!.n;
  }
}

/** TypeORM returns UPDATE … RETURNING as [rows, count]. */
function normaliseRows(result: unknown): OutboxRow[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number')
    return result[0] as OutboxRow[];
  return result as OutboxRow[];
}
