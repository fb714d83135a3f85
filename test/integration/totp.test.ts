/**
 * The staff second factor end to end: enrolment through the CLI, the second
 * step at the portal sign-in and at the login-on-behalf re-auth screen, `amr`
 * in the ID token and the re-auth record, recovery codes, replay, and the
 * policy switch (a second instance on the same database with it on).
 */
import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import { generate } from 'otplib';
import { runCli } from '../../src/cli/index.js';
import { createSealer } from '../../src/server/secrets/sealer.js';
import { TotpService } from '../../src/accounts/totp-service.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { HttpBrowser, type Page } from '../support/browser.js';
import { discover } from '../support/oauth.js';
import { customerId, exchange, onBehalfParams, openReauth, staffId } from '../support/on-behalf.js';
import { PORTAL_REDIRECT, STAFF } from '../support/staff.js';

let running: RunningBehalf;
/** The same database with `security.requireSecondFactorForLoginOnBehalf` on. */
let strict: RunningBehalf;
let sam: string;
let oleg: string;
let olegBooks: string;
let secret: string;
let recoveryCodes: string[];

async function cli(...argv: string[]) {
  const out = { code: 0, stdout: '', stderr: '' };
  out.code = await runCli(
    argv,
    { stdout: { write: (t: string) => (out.stdout += t) }, stderr: { write: (t: string) => (out.stderr += t) } },
    { env: { NODE_ENV: 'test', DATABASE_URL: running.database.url } },
  );
  return out;
}

/** TOTP codes are single-use per 30 s step: each test takes the next step not yet used (within the ±1 step tolerance). */
let lastStep = 0;
async function nextCode(): Promise<string> {
  const step = Math.max(Math.floor(Date.now() / 30_000), lastStep + 1);
  lastStep = step;
  return generate({ secret, epoch: step * 30 });
}

async function events(instance: RunningBehalf, type: string) {
  return (await instance.behalf.audit.events.query({ type })).events;
}

/** Portal sign-in up to the page after the password. */
async function portalPassword(who: keyof typeof STAFF = 'sam') {
  const config = await discover(running.issuer, 'portal', 'portal-demo-secret');
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: PORTAL_REDIRECT,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const browser = new HttpBrowser(running.issuer);
  const page = await browser.submit(await browser.follow(url.toString()), '/login', STAFF[who]);
  return {
    browser,
    page,
    tokens: (done: Page) => client.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state }),
  };
}

async function reauthPassword(instance: RunningBehalf, options: { store?: string; customer: string; email?: string; password?: string }) {
  const opened = await openReauth(instance, options);
  const page = await opened.browser.submit(opened.page, '/reauth', {
    email: options.email ?? STAFF.sam.email,
    password: options.password ?? STAFF.sam.password,
    reason: 'Customer cannot complete checkout',
  });
  const finish = async (done: Page) => {
    if (!done.url.includes('/callback'))
      throw new Error(`re-authentication ended at ${done.url} (${done.status}): ${done.html.slice(0, 800)}`);
    return (
      await client.authorizationCodeGrant(opened.config, new URL(done.url), {
        pkceCodeVerifier: opened.verifier,
        expectedState: opened.state,
      })
    ).access_token;
  };
  return { browser: opened.browser, page, finish };
}

async function reauthAmr(sessionId: string): Promise<string[]> {
  const [row] = (await running.behalf.dataSource.query(
    `SELECT r.amr FROM on_behalf_session s JOIN on_behalf_reauth r ON r.id = s.reauth_id WHERE s.id = $1`,
    [sessionId],
  )) as { amr: string[] }[];
  return row!.amr;
}

beforeAll(async () => {
  // Wrong codes count toward the account lockout (totp-lockout.test.ts); the
  // threshold is raised here so the wrong codes these tests type never lock sam.
  running = await startBehalf({ overrides: { security: { lockoutThreshold: 50 } } });
  strict = await startBehalf({
    database: running.database,
    overrides: { security: { requireSecondFactorForLoginOnBehalf: true, lockoutThreshold: 50 } },
  });
  sam = await staffId(running, STAFF.sam.email);
  oleg = await customerId(running, 'electronics', 'oleg@example.com');
  olegBooks = await customerId(running, 'books', 'oleg@example.com');
});
afterAll(async () => {
  await strict?.stop();
  await running?.stop();
});

describe('enrolment through the CLI', () => {
  it('enrols staff: prints the otpauth URI, the secret and 10 recovery codes once, keeps the secret sealed, audits', async () => {
    const result = await cli('accounts', 'totp', 'enroll', STAFF.sam.email, '--json');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const printed = JSON.parse(result.stdout) as { otpauth_uri: string; secret: string; recovery_codes: string[] };
    secret = printed.secret;
    recoveryCodes = printed.recovery_codes;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(printed.otpauth_uri).toMatch(/^otpauth:\/\/totp\/Behalf:support%40example\.com\?/);
    expect(printed.otpauth_uri).toContain(`secret=${secret}`);
    expect(new Set(recoveryCodes).size).toBe(10);

    const [row] = (await running.behalf.dataSource.query(`SELECT totp_secret_encrypted AS sealed FROM account WHERE id = $1`, [sam])) as {
      sealed: string;
    }[];
    expect(row!.sealed).not.toContain(secret);
    expect(await running.behalf.sealer.open(row!.sealed)).toBe(secret);
    const hashes = (await running.behalf.dataSource.query(`SELECT code_hash FROM totp_recovery_code WHERE account_id = $1`, [sam])) as {
      code_hash: string;
    }[];
    expect(hashes).toHaveLength(10);
    expect(hashes.map((hash) => hash.code_hash)).not.toContain(recoveryCodes[0]);
    expect(await events(running, 'admin.account.totp_enrolled')).toEqual([
      expect.objectContaining({ subject: sam, details: expect.objectContaining({ username: STAFF.sam.email }) }),
    ]);
  });

  it('refuses customer accounts', async () => {
    const result = await cli('accounts', 'totp', 'enroll', oleg);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/not a staff account/);
  });
});

describe('portal sign-in with TOTP', () => {
  it('asks for the code after the password; a wrong code is refused and audited; the right one gives amr pwd+otp', async () => {
    const { browser, page, tokens } = await portalPassword();
    expect(page.status).toBe(200);
    expect(page.html).toContain('>Authentication code</label>');
    expect(page.html).toContain('>Verify</button>');

    const code = await nextCode();
    const wrong = String((Number(code) + 500_000) % 1_000_000).padStart(6, '0');
    const refused = await browser.submit(page, '/second-factor', { code: wrong });
    expect(refused.status).toBe(200);
    expect(refused.html).toMatch(/That code is not valid/);
    expect(await events(running, 'auth.login.failed')).toContainEqual(
      expect.objectContaining({ actor: sam, details: expect.objectContaining({ reason: 'invalid_otp' }) }),
    );

    // No CSRF token, no answer.
    const forged = await browser.request(
      `${running.issuer}/interaction/${/\/interaction\/([^/]+)\/second-factor/.exec(page.html)![1]}/second-factor`,
      {
        method: 'POST',
        body: new URLSearchParams({ code }),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
    );
    expect(forged.status).toBe(403);

    const done = await browser.submit(refused, '/second-factor', { code });
    expect(done.url.startsWith(PORTAL_REDIRECT)).toBe(true);
    const idToken = decodeJwt((await tokens(done)).id_token!);
    expect(idToken.amr).toEqual(['pwd', 'otp']);
    expect(await events(running, 'auth.login.succeeded')).toContainEqual(
      expect.objectContaining({ actor: sam, details: expect.objectContaining({ amr: ['pwd', 'otp'] }) }),
    );
  });

  it('does not take the same code twice', async () => {
    const used = await generate({ secret, epoch: lastStep * 30 });
    const { browser, page } = await portalPassword();
    const again = await browser.submit(page, '/second-factor', { code: used });
    expect(again.html).toMatch(/That code is not valid/);
  });

  it('takes a recovery code once', async () => {
    const first = await portalPassword();
    const done = await first.browser.submit(first.page, '/second-factor', { code: recoveryCodes[0]!.toUpperCase() });
    expect(done.url.startsWith(PORTAL_REDIRECT)).toBe(true);
    expect(decodeJwt((await first.tokens(done)).id_token!).amr).toEqual(['pwd', 'otp']);

    const second = await portalPassword();
    const refused = await second.browser.submit(second.page, '/second-factor', { code: recoveryCodes[0]! });
    expect(refused.html).toMatch(/That code is not valid/);
  });

  it('sends the user back to the password after five wrong codes', async () => {
    const { browser, page } = await portalPassword();
    let current = page;
    for (let attempt = 0; attempt < 5; attempt += 1) current = await browser.submit(current, '/second-factor', { code: 'aaaaa-aaaaa' });
    expect(current.html).toMatch(/Too many wrong codes/);
    expect(current.html).toContain('>Password</label>');
  });
});

describe('login on behalf with TOTP', () => {
  it('asks for the code on the re-auth screen; the exchange works and the re-auth records amr pwd+otp', async () => {
    const { browser, page, finish } = await reauthPassword(running, { customer: oleg });
    expect(page.html).toContain('>Authentication code</label>');
    const actorToken = await finish(await browser.submit(page, '/second-factor', { code: await nextCode() }));
    const response = await exchange(running, onBehalfParams(oleg, actorToken));
    expect(response.status).toBe(200);
    const sid = String(decodeJwt(String(response.body.access_token)).obo_sid);
    expect(await reauthAmr(sid)).toEqual(['pwd', 'otp']);
  });

  it('with the policy on: a recovery code also counts as the second factor', async () => {
    const { browser, page, finish } = await reauthPassword(strict, { customer: oleg });
    const actorToken = await finish(await browser.submit(page, '/second-factor', { code: recoveryCodes[1]! }));
    const response = await exchange(strict, onBehalfParams(oleg, actorToken));
    expect(response.status).toBe(200);
  });
});

describe('the policy switch (requireSecondFactorForLoginOnBehalf)', () => {
  it('refuses staff without TOTP at the re-auth screen, audited', async () => {
    const { page } = await reauthPassword(strict, {
      store: 'books',
      customer: olegBooks,
      email: STAFF.bea.email,
      password: STAFF.bea.password,
    });
    expect(page.status).toBe(403);
    expect(page.html).toMatch(/requires a second factor/);
    const bea = await staffId(running, STAFF.bea.email);
    expect(await events(running, 'on_behalf.denied')).toContainEqual(
      expect.objectContaining({ actor: bea, details: expect.objectContaining({ reason: 'second_factor_required' }) }),
    );
  });

  it('refuses the exchange for a re-authentication without otp', async () => {
    // Re-authenticated with the password alone where the policy is off…
    const { page, finish } = await reauthPassword(running, {
      store: 'books',
      customer: olegBooks,
      email: STAFF.bea.email,
      password: STAFF.bea.password,
    });
    const actorToken = await finish(page);
    // …it opens nothing where the policy is on.
    const response = await exchange(strict, onBehalfParams(olegBooks, actorToken), 'books');
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/second factor/) });
    expect(await events(running, 'on_behalf.denied')).toContainEqual(
      expect.objectContaining({ details: expect.objectContaining({ reason: 'second_factor_required', error: 'invalid_request' }) }),
    );
    expect((await exchange(running, onBehalfParams(olegBooks, actorToken), 'books')).status).toBe(200);
  });
});

describe('key-encryption key rotation', () => {
  it('re-seals TOTP secrets under the new key (what `keys rewrap` runs)', async () => {
    // Only the TOTP secrets: a CLI rewrap would also re-seal the running server's keys under a KEK it lacks.
    const original = running.config.secrets.keyEncryptionKeys;
    const rotated = createSealer([Buffer.alloc(32, 7).toString('base64url'), ...original]);
    const sealedNow = async () =>
      (
        (await running.behalf.dataSource.query(`SELECT totp_secret_encrypted AS sealed FROM account WHERE id = $1`, [sam])) as {
          sealed: string;
        }[]
      )[0]!.sealed;
    expect(await new TotpService(running.behalf.dataSource, rotated).rewrap()).toBe(1);
    expect(rotated.needsRewrap(await sealedNow())).toBe(false);
    expect(await rotated.open(await sealedNow())).toBe(secret);
    expect(await new TotpService(running.behalf.dataSource, rotated).rewrap()).toBe(0);
    // Back under the server's own key for the tests that follow.
    const restore = createSealer([...original, Buffer.alloc(32, 7).toString('base64url')]);
    expect(await new TotpService(running.behalf.dataSource, restore).rewrap()).toBe(1);
    expect(await running.behalf.sealer.open(await sealedNow())).toBe(secret);
  });
});

describe('disabling', () => {
  it('removes the second factor through the CLI, audited; the password alone signs in again', async () => {
    expect(await cli('accounts', 'totp', 'disable', STAFF.sam.email)).toMatchObject({ code: 0 });
    expect(await events(running, 'admin.account.totp_disabled')).toEqual([expect.objectContaining({ subject: sam })]);
    const { page } = await portalPassword();
    expect(page.url.startsWith(PORTAL_REDIRECT)).toBe(true);
    expect((await cli('accounts', 'totp', 'disable', STAFF.sam.email)).code).not.toBe(0);
  });
});
