/**
 * Password reset by emailed link, over real HTTP and real SMTP: linked from a
 * store's sign-in page; the same answer for a known and an unknown address
 * (and no mail for the unknown one); the link works once and only for a
 * while; the token is stored hashed; every step is audited.
 */
import * as client from 'openid-client';
import { createHash } from 'node:crypto';
import { HttpBrowser, type Page } from '../support/browser.js';
import { linkIn, startBehalfWithMail, type BehalfWithMail } from '../support/mail.js';
import { storefront } from '../support/on-behalf.js';

let system: BehalfWithMail;
beforeAll(async () => {
  system = await startBehalfWithMail();
});
afterAll(async () => {
  await system?.stop();
});

async function signInPage(browser: HttpBrowser): Promise<Page> {
  const config = await storefront(system.running, 'electronics');
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: 'http://localhost:4001/electronics/callback',
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    state: client.randomState(),
  });
  return browser.follow(url.toString());
}

async function requestReset(email: string): Promise<{ page: Page; ms: number; browser: HttpBrowser }> {
  const browser = new HttpBrowser(system.running.issuer);
  const login = await signInPage(browser);
  const link = /href="(\/interaction\/[^"]+\/forgot)"/.exec(login.html);
  expect(link).not.toBeNull();
  const form = await browser.follow(`${system.running.issuer}${link![1]}`);
  expect(form.status).toBe(200);
  const started = Date.now();
  const page = await browser.submit(form, '/forgot', { email });
  return { page, ms: Date.now() - started, browser };
}

async function auditTypes(type: string): Promise<{ subject: string | null; details: Record<string, unknown> }[]> {
  return (await system.running.behalf.dataSource.query(`SELECT subject, details FROM audit_event WHERE type = $1 ORDER BY seq`, [
    type,
  ])) as {
    subject: string | null;
    details: Record<string, unknown>;
  }[];
}

test('a known and an unknown address get the same answer; only the known one gets a mail, and both are audited', async () => {
  const known = await requestReset('oleg@example.com');
  const unknown = await requestReset('nobody-here@example.com');
  expect(known.page.status).toBe(200);
  expect(unknown.page.status).toBe(200);
  const strip = (html: string) => html.replace(/\/interaction\/[^"]+/g, '');
  expect(strip(known.page.html)).toBe(strip(unknown.page.html));
  // Neither answers faster than the floor, whichever took the mail path.
  expect(known.ms).toBeGreaterThanOrEqual(380);
  expect(unknown.ms).toBeGreaterThanOrEqual(380);
  await system.catcher.waitFor((m) => m.to.includes('oleg@example.com') && m.subject.includes('Reset'));
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(system.catcher.messages().some((m) => m.to.includes('nobody-here@example.com'))).toBe(false);
  const events = await auditTypes('auth.password_reset.requested');
  expect(events.map((e) => e.details.outcome)).toEqual(expect.arrayContaining(['mail_queued', 'no_such_customer']));
});

test('the emailed link sets a new password once; the token is kept only as a hash; the old password stops working', async () => {
  const anna = 'anna@example.com';
  await requestReset(anna);
  const mail = await system.catcher.waitFor((m) => m.to.includes(anna) && m.subject.includes('Reset'));
  const link = linkIn(mail, `${system.running.issuer}/password-reset/`);
  expect(mail.html).toContain(`href="${link}"`);
  const token = link.split('/').pop()!;
  const stored = (await system.running.behalf.dataSource.query(
    `SELECT token_hash FROM account_token WHERE purpose = 'password_reset'`,
  )) as {
    token_hash: string;
  }[];
  expect(stored.map((row) => row.token_hash)).toContain(createHash('sha256').update(token).digest('hex'));
  expect(JSON.stringify(stored)).not.toContain(token);

  const browser = new HttpBrowser(system.running.issuer);
  const form = await browser.follow(link);
  expect(form.status).toBe(200);
  expect(form.headers.get('referrer-policy')).toBe('no-referrer');
  const mismatch = await browser.submit(form, '/password-reset/', {
    password: 'A-new-password-2027',
    password_again: 'different-one-2027',
  });
  expect(mismatch.status).toBe(400);
  const short = await browser.submit(mismatch, '/password-reset/', { password: 'short', password_again: 'short' });
  expect(short.status).toBe(400);
  const done = await browser.submit(short, '/password-reset/', { password: 'A-new-password-2027', password_again: 'A-new-password-2027' });
  expect(done.status).toBe(200);
  expect(done.html).toContain('Your password was changed');

  const store = await system.running.behalf.stores.findBySlug('electronics');
  expect((await system.running.behalf.accounts.signIn({ kind: 'storefront', storeId: store!.id }, anna, 'A-new-password-2027')).ok).toBe(
    true,
  );
  expect((await system.running.behalf.accounts.signIn({ kind: 'storefront', storeId: store!.id }, anna, 'Customer-Demo-2026')).ok).toBe(
    false,
  );

  // Single use: the link is dead now, for showing and for posting.
  expect((await browser.follow(link)).status).toBe(400);
  const replay = await browser.submit(form, '/password-reset/', {
    password: 'Another-password-2027',
    password_again: 'Another-password-2027',
  });
  expect(replay.status).toBe(400);
  expect(replay.html).toContain('This link no longer works');
  const completed = await auditTypes('auth.password_reset.completed');
  expect(completed).toHaveLength(1);
});

test('an expired link does not work', async () => {
  const seen = new Set(system.catcher.messages().map((m) => m.id));
  await requestReset('oleg@example.com');
  const mail = await system.catcher.waitFor((m) => !seen.has(m.id) && m.to.includes('oleg@example.com') && m.subject.includes('Reset'));
  const link = linkIn(mail, `${system.running.issuer}/password-reset/`);
  const token = link.split('/').pop()!;
  await system.running.behalf.dataSource.query(`UPDATE account_token SET expires_at = now() - interval '1 second' WHERE token_hash = $1`, [
    createHash('sha256').update(token).digest('hex'),
  ]);
  expect((await new HttpBrowser(system.running.issuer).follow(link)).status).toBe(400);
});

test('malformed and unknown tokens, a missing CSRF token and requests from other kinds of interaction are refused cleanly', async () => {
  const browser = new HttpBrowser(system.running.issuer);
  for (const token of ['x', 'A'.repeat(43), '%00', 'a'.repeat(5000)]) {
    const page = await browser.follow(`${system.running.issuer}/password-reset/${token}`);
    expect([400, 404, 414, 431]).toContain(page.status);
  }
  const post = await fetch(`${system.running.issuer}/password-reset/${'A'.repeat(43)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'password=A-new-password-2027&password_again=A-new-password-2027',
  });
  expect(post.status).toBe(403);
  const forgot = await browser.follow(`${system.running.issuer}/interaction/not-an-interaction/forgot`);
  expect(forgot.status).toBe(404);
});
