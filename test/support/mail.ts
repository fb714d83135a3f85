/** Behalf with mail on, sent over real SMTP to a mail catcher on port 0, and reading links out of the mail. */
import { startMailCatcher, type CaughtMail, type MailCatcher } from '../../src/server/mail/catcher.js';
import { startBehalf, type RunningBehalf, type StartOptions } from './behalf.js';

export interface BehalfWithMail {
  running: RunningBehalf;
  catcher: MailCatcher;
  stop(): Promise<void>;
}

export async function startBehalfWithMail(options: StartOptions = {}): Promise<BehalfWithMail> {
  const catcher = await startMailCatcher();
  const overrides = options.overrides ?? {};
  const running = await startBehalf({
    ...options,
    overrides: {
      ...overrides,
      mail: { enabled: true, smtpUrl: catcher.smtpUrl, pollIntervalSeconds: 0.1, retryBaseSeconds: 0.2, ...(overrides.mail as object) },
    },
  });
  return {
    running,
    catcher,
    async stop() {
      await running.stop();
      await catcher.close();
    },
  };
}

/** The first link in a mail's text part that starts with `prefix`. */
export function linkIn(mail: CaughtMail, prefix: string): string {
  const found = mail.text.split(/\s+/).find((word) => word.startsWith(prefix));
  if (!found) throw new Error(`no link starting with ${prefix} in: ${mail.text}`);
  return found;
}
