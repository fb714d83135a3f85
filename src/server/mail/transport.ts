/**
 * Sending one mail over SMTP (nodemailer), from `mail.smtpUrl`. Only the
 * outbox worker calls it: nothing a user waits for ever talks SMTP.
 */
import nodemailer from 'nodemailer';

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export interface MailTransport {
  send(to: string, mail: RenderedMail): Promise<void>;
  close(): void;
}

export function smtpTransport(smtpUrl: string, from: string): MailTransport {
  const url = new URL(smtpUrl);
  const transporter = nodemailer.createTransport({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
    secure: url.protocol === 'smtps:',
    ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
    // A relay that hangs must not hold the worker: the attempt fails and is retried later.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    async send(to, mail) {
      await transporter.sendMail({ from, to, subject: mail.subject, text: mail.text, html: mail.html });
    },
    close() {
      transporter.close();
    },
  };
}
