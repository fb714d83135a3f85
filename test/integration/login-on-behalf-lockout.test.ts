/**
 * A temporary lockout blocks the customer's own sign-in for its duration and
 * nothing else: anyone who knows a customer's email can lock the account with
 * wrong passwords at the store's sign-in form, and that must not end or refuse
 * the agent's on-behalf session. Disabling the account still ends it.
 */
import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { HttpBrowser, type Page } from '../support/browser.js';
import { customerId, exchange, onBehalfParams, openReauth, reauthenticate, storefront } from '../support/on-behalf.js';

const OLEG = { email: 'oleg@example.com', password: 'Customer-Demo-2026' };
const THRESHOLD = 5;

let running: RunningBehalf;
let oleg: string;

beforeAll(async () => {
  running = await startBehalf();
  oleg = await customerId(running, 'electronics', OLEG.email);
});
afterAll(async () => {
  await running?.stop();
});

/** The storefront's own sign-in page (a customer's code flow with PKCE), as a browser reaches it. */
async function storefrontSignIn(): Promise<{ browser: HttpBrowser; page: Page }> {
  const config = await storefront(running);
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: 'http://localhost:4001/electronics/callback',
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  const browser = new HttpBrowser(running.issuer);
  return { browser, page: await browser.follow(url.toString()) };
}

async function lockOutByWrongPasswords(): Promise<void> {
  const { browser, page: first } = await storefrontSignIn();
  let page = first;
  for (let i = 0; i < THRESHOLD; i += 1) {
    page = await browser.submit(page, '/login', { email: OLEG.email, password: `wrong-guess-${i}` });
    expect(page.status).toBe(200);
  }
  const state = await running.behalf.accounts.findLoginState(oleg);
  expect(state!.lockedUntil!.getTime()).toBeGreaterThan(Date.now());
}

function sessionOf(response: { body: Record<string, unknown> }): string {
  return String(decodeJwt(String(response.body.access_token)).obo_sid);
}

describe('a customer locked out by wrong passwords', () => {
  it('cannot sign in, but the running session continues, and a new one can be opened', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    const opened = await exchange(running, onBehalfParams(oleg, actorToken));
    expect(opened.status).toBe(200);
    const sessionId = sessionOf(opened);

    await lockOutByWrongPasswords();
    // The lock does what it is for: even the right password is refused for its duration.
    const { browser, page } = await storefrontSignIn();
    const refused = await browser.submit(page, '/login', OLEG);
    expect(refused.url).not.toContain('/callback');
    expect(refused.html).toContain('Invalid email or password.');

    // The agent's session goes on.
    const continued = await exchange(running, onBehalfParams(oleg, actorToken));
    expect({ status: continued.status, body: continued.status === 200 ? {} : continued.body }).toEqual({ status: 200, body: {} });
    expect(sessionOf(continued)).toBe(sessionId);
    expect(await running.behalf.onBehalf.session(sessionId)).toMatchObject({ endedAt: null, endReason: null });

    // The re-auth screen accepts the customer, and a new session opens.
    const screen = await openReauth(running, { customer: oleg });
    expect(screen.page.status).toBe(200);
    const second = await reauthenticate(running, { customer: oleg });
    const another = await exchange(running, onBehalfParams(oleg, second.actorToken));
    expect(another.status).toBe(200);
    expect(sessionOf(another)).not.toBe(sessionId);
    await running.behalf.onBehalf.endSession(sessionOf(another), 'system', 'ended_by_admin');
  });

  it('disabled, ends the running session and is refused', async () => {
    await running.behalf.accounts.setStatus(oleg, 'active');
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    const opened = await exchange(running, onBehalfParams(oleg, actorToken));
    expect(opened.status).toBe(200);
    const sessionId = sessionOf(opened);

    await running.behalf.accounts.setStatus(oleg, 'disabled');
    try {
      const refused = await exchange(running, onBehalfParams(oleg, actorToken));
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error: 'invalid_request', error_description: 'the customer account is not active' });
      expect(await running.behalf.onBehalf.session(sessionId)).toMatchObject({ endedBy: 'system', endReason: 'policy_revoked' });
      const screen = await openReauth(running, { customer: oleg });
      expect(screen.page.status).toBe(403);
    } finally {
      await running.behalf.accounts.setStatus(oleg, 'active');
    }
  });
});
