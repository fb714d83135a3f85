/**
 * Behalf records what happens in its audit trail: sign-ins (failed, locked,
 * succeeded), consent, tokens issued and revoked, logout; a token response
 * never leaves without its record; the chain verifies and no secret is stored.
 */
import * as client from 'openid-client';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { HttpBrowser } from '../support/browser.js';

let running: RunningBehalf;
const secretsSeen: string[] = [
  'Customer-Demo-2026',
  'Support-Demo-2026',
  'wrong-password-1',
  'integrator-demo-secret',
  'storefront-demo-secret',
];

beforeAll(async () => {
  running = await startBehalf({ overrides: { security: { lockoutThreshold: 3 } } });
});
afterAll(async () => {
  await running?.stop();
});

async function discover(clientId: string, secret: string) {
  return client.discovery(new URL(running.issuer), clientId, secret, undefined, { execute: [client.allowInsecureRequests] });
}

async function events(type: string) {
  return (await running.behalf.audit.events.query({ type, limit: 100 })).events;
}

async function loginPage(config: client.Configuration, browser: HttpBrowser, redirectUri: string) {
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 's',
  });
  return { page: await browser.follow(url.toString()), verifier };
}

describe('audit events', () => {
  it('records a successful sign-in, consent and the tokens issued', async () => {
    const config = await discover('storefront-electronics', 'storefront-demo-secret');
    const browser = new HttpBrowser(running.issuer);
    const { page, verifier } = await loginPage(config, browser, 'http://localhost:4001/electronics/callback');
    const done = await browser.submit(page, '/login', { email: 'anna@example.com', password: 'Customer-Demo-2026' });
    const tokens = await client.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: 's' });
    secretsSeen.push(tokens.access_token, tokens.id_token!);
    const sub = tokens.claims()!.sub;

    const [login] = await events('auth.login.succeeded');
    expect(login).toMatchObject({ actor: sub, subject: sub, clientId: 'storefront-electronics', details: { amr: ['pwd'] } });
    expect(login!.ip).toBeTruthy();
    expect(login!.userAgent).toBeTruthy();
    expect((await events('consent.granted'))[0]).toMatchObject({ subject: sub, clientId: 'storefront-electronics' });
    const [issued] = await events('token.issued');
    expect(issued).toMatchObject({
      actor: sub,
      subject: sub,
      clientId: 'storefront-electronics',
      details: { grant_type: 'authorization_code', id_token: true, access_token_format: 'opaque' },
    });
    expect(issued!.details.token_ref).toMatch(/^[A-Za-z0-9_-]{22}$/);

    await client.tokenRevocation(config, tokens.access_token);
    const [revoked] = await events('token.revoked');
    expect(revoked).toMatchObject({
      subject: sub,
      clientId: 'storefront-electronics',
      details: { token_kind: 'AccessToken', token_ref: issued!.details.token_ref },
    });
  });

  it('records client credentials with the JWT id and audience', async () => {
    const config = await discover('integrator-demo', 'integrator-demo-secret');
    const tokens = await client.clientCredentialsGrant(config, { scope: 'orders:read', resource: 'http://localhost:4003' });
    secretsSeen.push(tokens.access_token);
    const [issued] = await events('token.issued');
    expect(issued).toMatchObject({
      actor: 'client:integrator-demo',
      subject: null,
      clientId: 'integrator-demo',
      details: { grant_type: 'client_credentials', access_token_format: 'jwt', audience: 'http://localhost:4003', scope: 'orders:read' },
    });
    const payload = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as { jti: string };
    expect(issued!.details.jti).toBe(payload.jti);
  });

  it('records failed sign-ins and the lockout they cause', async () => {
    const config = await discover('storefront-books', 'storefront-demo-secret');
    const browser = new HttpBrowser(running.issuer);
    let { page } = await loginPage(config, browser, 'http://localhost:4001/books/callback');
    for (let i = 0; i < 3; i += 1) page = await browser.submit(page, '/login', { email: 'oleg@example.com', password: 'wrong-password-1' });
    expect(page.html).toContain('Invalid email or password');
    const failed = await events('auth.login.failed');
    expect(failed.length).toBeGreaterThanOrEqual(3);
    expect(failed[0]).toMatchObject({
      clientId: 'storefront-books',
      details: { reason: 'invalid_credentials', username: 'oleg@example.com' },
    });
    const [lockout] = await events('auth.lockout');
    expect(lockout).toMatchObject({ actor: 'system', subject: failed[0]!.subject, clientId: 'storefront-books' });
    // Locked: even the right password is refused, with the same message.
    page = await browser.submit(page, '/login', { email: 'oleg@example.com', password: 'Customer-Demo-2026' });
    expect(page.html).toContain('Invalid email or password');
    expect((await events('auth.login.failed'))[0]!.details.reason).toBe('locked');
  });

  it('records logout', async () => {
    const config = await discover('portal', 'portal-demo-secret');
    const browser = new HttpBrowser(running.issuer);
    const { page, verifier } = await loginPage(config, browser, 'http://localhost:4002/callback');
    const done = await browser.submit(page, '/login', { email: 'support@example.com', password: 'Support-Demo-2026' });
    const tokens = await client.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: 's' });
    const confirm = await browser.follow(
      client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'http://localhost:4002/' }).toString(),
    );
    await browser.submit(confirm, '/session/end/confirm', { logout: 'yes' });
    expect((await events('auth.logout'))[0]).toMatchObject({ subject: tokens.claims()!.sub, details: { everywhere: true } });
  });

  it('withholds the token when its audit record cannot be written (fail closed)', async () => {
    const config = await discover('integrator-demo', 'integrator-demo-secret');
    const count = async () =>
      ((await running.behalf.dataSource.query('SELECT count(*)::int AS n FROM audit_event')) as [{ n: number }])[0].n;
    const before = await count();
    await running.behalf.dataSource.query('ALTER FUNCTION audit_event_enqueue RENAME TO audit_event_enqueue_disabled');
    try {
      const response = await fetch(`${running.issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from('integrator-demo:integrator-demo-secret').toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read', resource: 'http://localhost:4003' }),
      });
      expect(response.status).toBe(503);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body.error).toBe('temporarily_unavailable');
      expect(body.access_token).toBeUndefined();
    } finally {
      await running.behalf.dataSource.query('ALTER FUNCTION audit_event_enqueue_disabled RENAME TO audit_event_enqueue');
    }
    expect(await count()).toBe(before);
    await expect(
      client.clientCredentialsGrant(config, { scope: 'orders:read', resource: 'http://localhost:4003' }),
    ).resolves.toHaveProperty('access_token');
  });

  it('keeps a verifiable log, sealed by a tree head signed with Behalf’s key, and stores no secret', async () => {
    const head = await running.behalf.audit.checkpoint();
    expect(head!.treeSize).toBe((await running.behalf.audit.events.head())!.seq);
    const result = await running.behalf.audit.verify();
    expect(result).toMatchObject({ ok: true, log: { lastTreeHead: { treeSize: head!.treeSize, rootHash: head!.rootHash } } });
    const dump = JSON.stringify(await running.behalf.dataSource.query('SELECT * FROM audit_event'));
    for (const secret of secretsSeen) expect(dump).not.toContain(secret);
  });
});
