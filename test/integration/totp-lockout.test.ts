/**
 * Wrong TOTP codes count toward the account lockout: the same counter and
 * threshold as wrong passwords, audited like a failed sign-in (and the lock
 * itself as `auth.lockout`), at the portal sign-in and at the login-on-behalf
 * re-auth screen. A right password does not reset the counter while a code is
 * still due; a right code does. A locked account's code is not even checked.
 */
import * as client from 'openid-client';
import { generate } from 'otplib';
import { runCli } from '../../src/cli/index.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { HttpBrowser, type Page } from '../support/browser.js';
import { discover } from '../support/oauth.js';
import { customerId, openReauth, staffId } from '../support/on-behalf.js';
import { PORTAL_REDIRECT, STAFF } from '../support/staff.js';

const THRESHOLD = 3;
const WRONG = 'aaaaa-aaaaa';

let running: RunningBehalf;
let sam: string;
let oleg: string;
let secret: string;

/** TOTP codes are single-use per 30 s step: each use takes the next step not yet used (within the ±1 step tolerance). */
let lastStep = 0;
function nextCode(): Promise<string> {
  const step = Math.max(Math.floor(Date.now() / 30_000), lastStep + 1);
  lastStep = step;
  return generate({ secret, epoch: step * 30 });
}

/** The audit trail's last sequence number before the current test. */
let mark = 0;
beforeEach(async () => {
  mark = await running.behalf.audit.events.mark();
});

/** This test's events of one type about sam (newest first). */
async function events(type: string) {
  return (await running.behalf.audit.events.query({ type, subject: sam, limit: 200 })).events.filter((event) => event.qid! > mark);
}

async function counter(): Promise<{ failed: number; locked: boolean }> {
  const [row] = (await running.behalf.dataSource.query(
    `SELECT failed_login_count AS failed, coalesce(locked_until > now(), false) AS locked FROM account WHERE id = $1`,
    [sam],
  )) as { failed: number; locked: boolean }[];
  return row!;
}

/** A clean slate for the next test: no lock, no failures. */
async function unlock() {
  await running.behalf.dataSource.query(`UPDATE account SET failed_login_count = 0, locked_until = NULL WHERE id = $1`, [sam]);
}

/** The portal sign-in form. */
async function portalLogin() {
  const config = await discover(running.issuer, 'portal', 'portal-demo-secret');
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: PORTAL_REDIRECT,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    state: client.randomState(),
  });
  const browser = new HttpBrowser(running.issuer);
  return { browser, page: await browser.follow(url.toString()) };
}

/** The portal sign-in up to the code step (the password is right). */
async function portalPassword() {
  const { browser, page } = await portalLogin();
  const codePage = await browser.submit(page, '/login', STAFF.sam);
  expect(codePage.html).toContain('>Authentication code</label>');
  return { browser, page: codePage };
}

async function wrongCodes(browser: HttpBrowser, page: Page, count: number): Promise<Page> {
  let current = page;
  for (let i = 0; i < count; i += 1) current = await browser.submit(current, '/second-factor', { code: WRONG });
  return current;
}

beforeAll(async () => {
  running = await startBehalf({ overrides: { security: { lockoutThreshold: THRESHOLD, lockoutSeconds: 900 } } });
  sam = await staffId(running, STAFF.sam.email);
  oleg = await customerId(running, 'electronics', 'oleg@example.com');
  const out = { stdout: '', stderr: '' };
  const code = await runCli(
    ['accounts', 'totp', 'enroll', STAFF.sam.email, '--json'],
    { stdout: { write: (t: string) => (out.stdout += t) }, stderr: { write: (t: string) => (out.stderr += t) } },
    {
      env: { NODE_ENV: 'test', DATABASE_URL: running.database.url },
    },
  );
  expect(code).toBe(0);
  secret = (JSON.parse(out.stdout) as { secret: string }).secret;
});
afterAll(async () => {
  await running?.stop();
});
afterEach(unlock);

describe('at the portal sign-in', () => {
  it('locks the account at the threshold of wrong codes, audits each and the lock, and sends the user back to the password', async () => {
    const { browser, page } = await portalPassword();
    const twice = await wrongCodes(browser, page, THRESHOLD - 1);
    expect(twice.html).toMatch(/That code is not valid/);
    expect(await counter()).toEqual({ failed: THRESHOLD - 1, locked: false });

    const locked = await wrongCodes(browser, twice, 1);
    expect(await counter()).toMatchObject({ locked: true });
    expect(locked.html).toContain('>Password</label>');
    expect(locked.html).not.toContain('>Authentication code</label>');

    const failed = await events('auth.login.failed');
    expect(failed.filter((event) => event.details.reason === 'invalid_otp')).toHaveLength(THRESHOLD);
    expect(failed[0]).toMatchObject({ actor: sam, clientId: 'portal', details: { reason: 'invalid_otp', username: STAFF.sam.email } });
    expect(await events('auth.lockout')).toEqual([
      expect.objectContaining({ actor: 'system', clientId: 'portal', details: { locked_until: expect.any(String) } }),
    ]);

    // Locked: even the right password and the right code sign nobody in.
    const again = await browser.submit(locked, '/login', STAFF.sam);
    expect(again.url.startsWith(PORTAL_REDIRECT)).toBe(false);
    expect(again.html).toMatch(/Invalid email or password/);
    expect(again.html).not.toContain('>Authentication code</label>');
  });

  it('shares the counter with wrong passwords, and a right password does not reset it while the code is due', async () => {
    const { browser, page } = await portalLogin();
    const wrongPassword = await browser.submit(page, '/login', { email: STAFF.sam.email, password: 'not-the-password' });
    expect(await counter()).toEqual({ failed: 1, locked: false });
    const codePage = await browser.submit(wrongPassword, '/login', STAFF.sam);
    expect(codePage.html).toContain('>Authentication code</label>');
    expect(await counter()).toEqual({ failed: 1, locked: false });
    await wrongCodes(browser, codePage, THRESHOLD - 1);
    expect(await counter()).toMatchObject({ locked: true });
    expect(await events('auth.lockout')).toHaveLength(1);
  });

  it('counts across interactions: a new password step starts where the last one stopped', async () => {
    const first = await portalPassword();
    await wrongCodes(first.browser, first.page, THRESHOLD - 1);
    const second = await portalPassword();
    const locked = await wrongCodes(second.browser, second.page, 1);
    expect(await counter()).toMatchObject({ locked: true });
    expect(locked.html).toContain('>Password</label>');
  });

  it('a right code completes the sign-in and resets the counter', async () => {
    const { browser, page } = await portalPassword();
    const twice = await wrongCodes(browser, page, THRESHOLD - 1);
    const done = await browser.submit(twice, '/second-factor', { code: await nextCode() });
    expect(done.url.startsWith(PORTAL_REDIRECT)).toBe(true);
    expect(await counter()).toEqual({ failed: 0, locked: false });
  });

  it('does not check the code of an account locked since its password, and audits the refusal', async () => {
    const { browser, page } = await portalPassword();
    // Locked meanwhile (e.g. by wrong passwords elsewhere).
    await running.behalf.dataSource.query(`UPDATE account SET locked_until = now() + interval '15 minutes' WHERE id = $1`, [sam]);
    const refused = await browser.submit(page, '/second-factor', { code: await nextCode() });
    expect(refused.url.startsWith(PORTAL_REDIRECT)).toBe(false);
    expect(refused.html).toContain('>Password</label>');
    expect(await events('auth.login.failed')).toContainEqual(
      expect.objectContaining({ details: expect.objectContaining({ reason: 'locked' }) }),
    );
    expect(await events('auth.login.succeeded')).toEqual([]);
    // Back at the password, the lock answers.
    const again = await browser.submit(refused, '/login', STAFF.sam);
    expect(again.html).toMatch(/Invalid email or password/);
  });
});

describe('at the login-on-behalf re-auth screen', () => {
  it('counts wrong codes toward the same lockout, audited with the purpose, and shows the re-auth form again', async () => {
    const opened = await openReauth(running, { customer: oleg });
    const codePage = await opened.browser.submit(opened.page, '/reauth', { ...STAFF.sam, reason: 'Customer cannot complete checkout' });
    expect(codePage.html).toContain('>Authentication code</label>');
    const locked = await wrongCodes(opened.browser, codePage, THRESHOLD);
    expect(await counter()).toMatchObject({ locked: true });
    expect(locked.html).toMatch(/Too many wrong codes/);
    expect(locked.html).toContain('action="/interaction/');
    expect(locked.html).not.toContain('>Authentication code</label>');

    const failed = (await events('auth.login.failed')).filter(
      (event) => event.details.reason === 'invalid_otp' && event.details.purpose === 'login_on_behalf',
    );
    expect(failed).toHaveLength(THRESHOLD);
    expect(await events('auth.lockout')).toContainEqual(
      expect.objectContaining({ details: { locked_until: expect.any(String), purpose: 'login_on_behalf' } }),
    );

    // The right password now finds a locked account: refused, and the lock is not a password oracle.
    const again = await opened.browser.submit(locked, '/reauth', { ...STAFF.sam, reason: 'Customer cannot complete checkout' });
    expect(again.html).toMatch(/Invalid email or password/);
    expect(again.html).not.toContain('>Authentication code</label>');
  });

  it('audits a lockout by wrong passwords at the re-auth screen too', async () => {
    const opened = await openReauth(running, { customer: oleg });
    let page = opened.page;
    for (let i = 0; i < THRESHOLD; i += 1)
      page = await opened.browser.submit(page, '/reauth', {
        email: STAFF.sam.email,
        password: `wrong-${i}`,
        reason: 'Customer cannot complete checkout',
      });
    expect(await counter()).toMatchObject({ locked: true });
    expect(await events('auth.lockout')).toContainEqual(
      expect.objectContaining({ details: { locked_until: expect.any(String), purpose: 'login_on_behalf' } }),
    );
  });
});
