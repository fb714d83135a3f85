/**
 * The mail component over real SMTP: the outbox is written in the caller's
 * transaction, the worker sends it through a real SMTP listener (the
 * development mail catcher, on port 0), retries what could not be sent, and
 * what is still pending when Behalf stops is sent after it starts again.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { loadConfig, ConfigError } from '../../config/load.js';
import { startMailCatcher, type MailCatcher } from '../../src/server/mail/catcher.js';
import { MailOutbox } from '../../src/server/mail/outbox.js';
import { MailTemplates } from '../../src/server/mail/templates.js';
import type { MailTransport } from '../../src/server/mail/transport.js';
import { createLogger } from '../../src/server/observability/logger.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { createTestDatabase } from '../support/database.js';
import { eventually } from '../support/poll.js';

const FAST = { enabled: true, pollIntervalSeconds: 0.1, retryBaseSeconds: 0.2 };

/** A port where nothing listens (connections are refused). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function outboxRow(running: RunningBehalf, id: string) {
  const [row] = (await running.behalf.dataSource.query(
    `SELECT attempts, sent_at, failed_at, payload, last_error FROM mail_outbox WHERE id = $1`,
    [id],
  )) as { attempts: number; sent_at: Date | null; failed_at: Date | null; payload: string | null; last_error: string | null }[];
  return row!;
}

function queueTest(running: RunningBehalf, to: string, data = { name: 'Oleg', note: 'hello' }) {
  return running.behalf.dataSource.transaction((manager) => running.behalf.mail.enqueue(manager, { to, template: 'test', data }));
}

describe('over real SMTP', () => {
  let catcher: MailCatcher;
  let running: RunningBehalf;
  beforeAll(async () => {
    catcher = await startMailCatcher();
    running = await startBehalf({ overrides: { mail: { ...FAST, smtpUrl: catcher.smtpUrl } } });
  });
  afterAll(async () => {
    await running?.stop();
    await catcher?.close();
  });

  test('a queued mail is sent with a text and an escaped HTML part, and its content is cleared once sent', async () => {
    const id = await queueTest(running, 'escape@example.com', { name: 'Oleg <b>', note: 'a & b <script>alert(1)</script>' });
    const mail = await catcher.waitFor((m) => m.to.includes('escape@example.com'));
    expect(mail.subject).toBe('Test mail for Oleg <b>');
    expect(mail.from).toContain('no-reply@behalf.localhost');
    expect(mail.text).toContain('a & b <script>alert(1)</script>');
    expect(mail.html).toContain('a &amp; b &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(mail.html).not.toContain('<script>');
    const row = await eventually(async () => {
      const found = await outboxRow(running, id);
      return found.sent_at ? found : undefined;
    });
    expect(row.payload).toBeNull();
    expect(row.attempts).toBe(1);
  });

  test('the template data is sealed at rest while the mail waits', async () => {
    const id = await running.behalf.dataSource.transaction(async (manager) => {
      const queued = await running.behalf.mail.enqueue(manager, {
        to: 'sealed@example.com',
        template: 'test',
        data: { name: 'x', note: 'secret-link-123' },
      });
      const [row] = (await manager.query(`SELECT payload FROM mail_outbox WHERE id = $1`, [queued])) as { payload: string }[];
      expect(row!.payload).not.toContain('secret-link-123');
      expect(row!.payload.split('.')).toHaveLength(5); // a compact JWE
      return queued;
    });
    await catcher.waitFor((m) => m.to.includes('sealed@example.com'));
    const sent = await eventually(async () => {
      const row = await outboxRow(running, id);
      return row.sent_at ? row : undefined;
    });
    expect(sent.payload).toBeNull();
  });

  test('the catcher’s web inbox lists the mail, escaped, and serves its HTML part sandboxed', async () => {
    await queueTest(running, 'inbox@example.com', { name: '<i>Anna</i>', note: 'read me' });
    const mail = await catcher.waitFor((m) => m.to.includes('inbox@example.com'));
    const list = await fetch(`${catcher.webUrl}/`);
    const listed = await list.text();
    expect(listed).toContain('Test mail for &lt;i&gt;Anna&lt;/i&gt;');
    expect(listed).not.toContain('<i>Anna</i>');
    const page = await (await fetch(`${catcher.webUrl}/messages/${mail.id}`)).text();
    expect(page).toContain('read me');
    const html = await fetch(`${catcher.webUrl}/messages/${mail.id}/html`);
    expect(html.headers.get('content-security-policy')).toMatch(/^sandbox /);
    const json = (await (await fetch(`${catcher.webUrl}/api/messages`)).json()) as { messages: { id: string }[] };
    expect(json.messages.some((m) => m.id === mail.id)).toBe(true);
    expect((await fetch(`${catcher.webUrl}/`, { method: 'POST' })).status).toBe(405);
  });

  test('a mail whose transaction rolls back is never sent', async () => {
    await expect(
      running.behalf.dataSource.transaction(async (manager) => {
        await running.behalf.mail.enqueue(manager, { to: 'rolled-back@example.com', template: 'test', data: { name: 'x', note: 'y' } });
        throw new Error('the event failed');
      }),
    ).rejects.toThrow('the event failed');
    await queueTest(running, 'after-rollback@example.com');
    await catcher.waitFor((m) => m.to.includes('after-rollback@example.com'));
    expect(catcher.messages().some((m) => m.to.includes('rolled-back@example.com'))).toBe(false);
  });
});

test('mail that cannot be sent waits in the outbox across a restart, and arrives once a relay answers', async () => {
  const database = await createTestDatabase();
  const dead = `smtp://127.0.0.1:${await deadPort()}`;
  const first = await startBehalf({ database, overrides: { mail: { ...FAST, smtpUrl: dead } } });
  let id: string;
  try {
    id = await queueTest(first, 'pending@example.com', { name: 'Oleg', note: 'sent after a restart' });
    const failed = await eventually(async () => {
      const row = await outboxRow(first, id);
      return row.attempts >= 2 && row.last_error ? row : undefined;
    });
    expect(failed.sent_at).toBeNull();
    expect(failed.payload).not.toBeNull();
  } finally {
    await first.stop();
  }
  const catcher = await startMailCatcher();
  const second = await startBehalf({ database, overrides: { mail: { ...FAST, retryBaseSeconds: 0.05, smtpUrl: catcher.smtpUrl } } });
  try {
    const mail = await catcher.waitFor((m) => m.to.includes('pending@example.com'), 15_000);
    expect(mail.text).toContain('sent after a restart');
    await eventually(async () => (await outboxRow(second, id)).sent_at);
  } finally {
    await second.stop();
    await catcher.close();
    await database.drop();
  }
});

test('two workers draining one outbox send every mail exactly once (FOR UPDATE SKIP LOCKED)', async () => {
  const running = await startBehalf({ overrides: { mail: { enabled: true } } }); // mail on, no relay: no worker of its own
  try {
    const sent: string[] = [];
    const slow: MailTransport = {
      async send(to) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        sent.push(to);
      },
      close() {},
    };
    const logger = createLogger('silent');
    const outbox = (batchSize: number) =>
      new MailOutbox(running.behalf.dataSource, running.behalf.sealer, new MailTemplates(), logger, {
        retryBaseSeconds: 1,
        maxAttempts: 3,
        batchSize,
      });
    for (let i = 0; i < 30; i += 1) await queueTest(running, `once-${i}@example.com`);
    const a = outbox(4);
    const b = outbox(4);
    for (let round = 0; round < 10 && sent.length < 30; round += 1) await Promise.all([a.drain(slow), b.drain(slow)]);
    expect(sent).toHaveLength(30);
    expect(new Set(sent).size).toBe(30);
  } finally {
    await running.stop();
  }
});

test('a mail that keeps failing is given up after maxAttempts, with the last error kept and its content cleared', async () => {
  const running = await startBehalf({ overrides: { mail: { enabled: true } } });
  try {
    const id = await queueTest(running, 'never@example.com');
    const failing: MailTransport = {
      send: () => Promise.reject(new Error('550 mailbox unavailable')),
      close() {},
    };
    const outbox = new MailOutbox(running.behalf.dataSource, running.behalf.sealer, new MailTemplates(), createLogger('silent'), {
      retryBaseSeconds: 0.01,
      maxAttempts: 2,
    });
    await outbox.drain(failing);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await outbox.drain(failing);
    const row = await outboxRow(running, id);
    expect(row.attempts).toBe(2);
    expect(row.failed_at).not.toBeNull();
    expect(row.payload).toBeNull();
    expect(row.last_error).toContain('550 mailbox unavailable');
  } finally {
    await running.stop();
  }
});

test('production refuses mail without a relay', () => {
  const env = {
    NODE_ENV: 'production',
    ISSUER: 'https://id.example.com',
    KEY_ENCRYPTION_KEYS: 'A'.repeat(43),
    COOKIE_KEYS: 'c'.repeat(40),
    DATABASE_URL: 'postgres://x@localhost/x',
  };
  expect(() => loadConfig({ env: { ...env, MAIL_ENABLED: 'true' } })).toThrow(ConfigError);
  expect(() => loadConfig({ env: { ...env, MAIL_ENABLED: 'true' } })).toThrow(/SMTP_URL/);
  expect(loadConfig({ env: { ...env, MAIL_ENABLED: 'true', SMTP_URL: 'smtps://user:pw@relay.example.com' } }).mail.enabled).toBe(true);
  expect(loadConfig({ env }).mail.enabled).toBe(false);
});
