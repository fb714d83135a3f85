/**
 * The audit trail records the username that was typed, not a cleaned-up one:
 * `oleg\0@example.com` matches no account, and recording it with the NUL
 * stripped would show an attempt at the real address. It is recorded escaped
 * (`oleg\u0000@example.com`) with `username_escaped: true`, at the sign-in
 * form and at the login-on-behalf re-auth screen.
 */
import * as client from 'openid-client';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { HttpBrowser } from '../support/browser.js';
import { customerId, openReauth, storefront } from '../support/on-behalf.js';

let running: RunningBehalf;

beforeAll(async () => {
  running = await startBehalf();
});
afterAll(async () => {
  await running?.stop();
});

async function lastFailedSignIn() {
  return (await running.behalf.audit.events.query({ type: 'auth.login.failed', limit: 1 })).events[0]!;
}

describe('a username with control characters in the audit trail', () => {
  it('at the storefront sign-in: escaped and flagged, never the real address', async () => {
    const config = await storefront(running);
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: 'http://localhost:4001/electronics/callback',
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const browser = new HttpBrowser(running.issuer);
    const page = await browser.follow(url.toString());
    const refused = await browser.submit(page, '/login', { email: 'oleg\u0000@example.com', password: 'Customer-Demo-2026' });
    expect(refused.url).not.toContain('/callback');

    const event = await lastFailedSignIn();
    expect(event.details.username).not.toBe('oleg@example.com');
    expect(event.details).toMatchObject({ reason: 'invalid_credentials', username: 'oleg\\u0000@example.com', username_escaped: true });
    expect(event.subject).toBeNull();
  });

  it('at the re-auth screen too; an ordinary username carries no flag', async () => {
    const oleg = await customerId(running, 'electronics', 'oleg@example.com');
    const { page, browser } = await openReauth(running, { customer: oleg });
    await browser.submit(page, '/reauth', {
      email: 'support@example.com\u0007',
      password: 'Support-Demo-2026',
      reason: 'Customer cannot complete checkout',
    });
    expect((await lastFailedSignIn()).details).toMatchObject({
      username: 'support@example.com\\u0007',
      username_escaped: true,
      purpose: 'login_on_behalf',
    });

    const again = await openReauth(running, { customer: oleg });
    await again.browser.submit(again.page, '/reauth', {
      email: 'support@example.com',
      password: 'wrong-password',
      reason: 'Customer cannot complete checkout',
    });
    const ordinary = (await lastFailedSignIn()).details;
    expect(ordinary).toMatchObject({ username: 'support@example.com' });
    expect(ordinary).not.toHaveProperty('username_escaped');
  });
});
