/**
 * Drains the outbox on a timer while Behalf runs. One round at a time per
 * process; a failed round (database away) is logged and tried again.
 */
import type { Logger } from '../observability/logger.js';
import type { MailOutbox } from './outbox.js';
import type { MailTransport } from './transport.js';

export class MailWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly outbox: MailOutbox,
    private readonly transport: MailTransport,
    private readonly logger: Logger,
    private readonly intervalSeconds: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.round(), this.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** One round now (unless one is running): what the timer does, and what a caller may ask for after a commit. */
  round(): Promise<void> {
    const round = (this.running ??= this.outbox
      .drain(this.transport)
      .then(({ sent }) => {
        if (sent) this.logger.debug('mail sent', { event: 'mail.sent', count: sent });
      })
      .catch((error: unknown) => {
        this.logger.warn('mail outbox round failed', { event: 'mail.outbox_failed', error });
      })
      .finally(() => {
        this.running = undefined;
      }));
    return round;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    this.transport.close();
  }
}
