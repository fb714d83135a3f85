/**
 * The development mail catcher: a real SMTP listener (smtp-server, from the
 * nodemailer project) that keeps the last mails in memory, and a small
 * read-only web inbox to read them in a browser (`npm start` prints where).
 * Tests use it on port 0 as the far end of real SMTP. Never for production:
 * it accepts any mail from anyone who can reach its port (loopback by default).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface CaughtMail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  receivedAt: string;
}

export interface MailCatcher {
  smtpUrl: string;
  webUrl: string;
  messages(): CaughtMail[];
  /** The first mail (already caught or still to come) that matches, or an error after `timeoutMs`. */
  waitFor(match: (mail: CaughtMail) => boolean, timeoutMs?: number): Promise<CaughtMail>;
  close(): Promise<void>;
}

const KEEP = 200;
const MAX_MESSAGE_BYTES = 2 * 1024 * 1024;

const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export async function startMailCatcher(options: { host?: string; smtpPort?: number; webPort?: number } = {}): Promise<MailCatcher> {
  const host = options.host ?? '127.0.0.1';
  const caught: CaughtMail[] = [];
  const waiters = new Set<{ match: (mail: CaughtMail) => boolean; resolve: (mail: CaughtMail) => void }>();

  const smtp = new SMTPServer({
    authOptional: true,
    // Plain SMTP on loopback: STARTTLS would need a certificate the client cannot verify.
    disabledCommands: ['STARTTLS', 'AUTH'],
    size: MAX_MESSAGE_BYTES,
    banner: 'Behalf development mail catcher',
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const mail: CaughtMail = {
            id: randomUUID(),
            from: parsed.from?.text ?? session.envelope.mailFrom?.toString() ?? '',
            to: session.envelope.rcptTo.map((to) => to.address),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
            receivedAt: new Date().toISOString(),
          };
          caught.push(mail);
          if (caught.length > KEEP) caught.shift();
          for (const waiter of [...waiters]) {
            if (waiter.match(mail)) {
              waiters.delete(waiter);
              waiter.resolve(mail);
            }
          }
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve, reject) => {
    smtp.once('error', reject);
    smtp.listen(options.smtpPort ?? 0, host, () => resolve());
  });
  smtp.on('error', () => undefined);
  const smtpPort = (smtp.server.address() as AddressInfo).port;

  const web = createServer((req, res) => inbox(req, res, caught));
  await new Promise<void>((resolve, reject) => {
    web.once('error', reject);
    web.listen(options.webPort ?? 0, host, () => resolve());
  });
  const webPort = (web.address() as AddressInfo).port;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;

  return {
    smtpUrl: `smtp://${hostInUrl}:${smtpPort}`,
    webUrl: `http://${hostInUrl === '127.0.0.1' ? 'localhost' : hostInUrl}:${webPort}`,
    messages: () => [...caught],
    waitFor(match, timeoutMs = 10_000) {
      const found = caught.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = { match, resolve };
        waiters.add(waiter);
        setTimeout(() => {
          if (waiters.delete(waiter)) reject(new Error(`no matching mail within ${timeoutMs} ms (caught: ${caught.length})`));
        }, timeoutMs).unref();
      });
    },
    async close() {
      await Promise.all([
        new Promise<void>((resolve) => smtp.close(() => resolve())),
        new Promise<void>((resolve) => {
          web.close(() => resolve());
          web.closeAllConnections();
        }),
      ]);
    },
  };
}

/** The read-only inbox: `/` lists, `/messages/<id>` shows one, `/messages/<id>/html` is its HTML part (sandboxed), `/api/messages` is JSON. */
function inbox(req: IncomingMessage, res: ServerResponse, caught: CaughtMail[]): void {
  const path = new URL(req.url ?? '/', 'http://catcher').pathname;
  const send = (status: number, type: string, body: string, csp = "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'") => {
    res.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      'content-security-policy': csp,
      'x-content-type-options': 'nosniff',
    });
    res.end(body);
  };
  if (req.method !== 'GET') return send(405, 'text/plain; charset=utf-8', 'read-only');
  if (path === '/api/messages') return send(200, 'application/json', JSON.stringify({ messages: [...caught].reverse() }));
  const page = (title: string, body: string) =>
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
    `<body style="font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem">${body}</body></html>`;
  if (path === '/') {
    const rows = [...caught]
      .reverse()
      .map(
        (m) =>
          `<tr><td>${escapeHtml(m.receivedAt)}</td><td>${escapeHtml(m.to.join(', '))}</td><td><a href="/messages/${m.id}">${escapeHtml(m.subject || '(no subject)')}</a></td></tr>`,
      )
      .join('');
    return send(
      200,
      'text/html; charset=utf-8',
      page(
        'Mail catcher',
        `<h1>Mail caught in development</h1><p>Nothing here left this machine. Newest first; reload to see new mail.</p>` +
          (caught.length ? `<table><tr><th>Received</th><th>To</th><th>Subject</th></tr>${rows}</table>` : '<p>No mail yet.</p>'),
      ),
    );
  }
  const match = /^\/messages\/([0-9a-f-]{36})(\/html)?$/.exec(path);
  const mail = match && caught.find((m) => m.id === match[1]);
  if (!match || !mail) return send(404, 'text/plain; charset=utf-8', 'no such mail');
  // The mail's own HTML, with no scripts, forms or plugins: it is someone else's content.
  if (match[2])
    return send(
      200,
      'text/html; charset=utf-8',
      mail.html,
      "sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation; default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    );
  return send(
    200,
    'text/html; charset=utf-8',
    page(
      mail.subject,
      `<p><a href="/">← All mail</a></p><h1>${escapeHtml(mail.subject)}</h1>` +
        `<p>From ${escapeHtml(mail.from)} to ${escapeHtml(mail.to.join(', '))}, ${escapeHtml(mail.receivedAt)}</p>` +
        (mail.html
          ? `<iframe title="HTML part" src="/messages/${mail.id}/html" style="width:100%;height:24rem;border:1px solid #ccc"></iframe>`
          : '') +
        `<h2>Text part</h2><pre style="white-space:pre-wrap">${escapeHtml(mail.text)}</pre>`,
    ),
  );
}
