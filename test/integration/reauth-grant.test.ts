/**
 * A login-on-behalf re-authentication yields `openid` and nothing more: no
 * refresh token that could outlive sign-out or the kill switch, whatever the
 * storefront asks. Sign-out, the kill switch and `sessions end-all` revoke the
 * agent's re-authentication grants, so no session can start afterwards.
 * (Security review, finding 1.)
 */
import * as client from 'openid-client';
import { runCli } from '../../src/cli/index.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { customerId, exchange, onBehalfParams, openReauth, staffId, storefront } from '../support/on-behalf.js';
import { portalToken } from '../support/staff.js';

let running: RunningBehalf;
let oleg: string;
let sam: string;

/** The exact request the review made: more than openid, a refresh token, and a consent prompt. */
const GREEDY = { scope: 'openid offline_access profile email', prompt: 'login consent' };

beforeAll(async () => {
  running = await startBehalf({ overrides: { onBehalf: { maxConcurrentSessions: 10 } } });
  oleg = await customerId(running, 'electronics', 'oleg@example.com');
  sam = await staffId(running, 'support@example.com');
});
afterAll(async () => {
  await running?.stop();
});

async function greedyReauth(reason = 'Greedy re-authentication') {
  const { page, browser, config, verifier, state } = await openReauth(running, { customer: oleg, extra: GREEDY });
  const done = await browser.submit(page, '/reauth', { email: 'support@example.com', password: 'Support-Demo-2026', reason });
  expect(done.url).toContain('/callback');
  const tokens = await client.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state });
  return { tokens, browser };
}

describe('the re-authentication grant', () => {
  it('carries openid only and never a refresh token, whatever the request asks; the refusal is audited', async () => {
    const { tokens } = await greedyReauth();
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.scope).toBe('openid');
    const [refused] = (await running.behalf.audit.events.query({ type: 'on_behalf.scope_refused', actor: sam })).events;
    expect(refused).toMatchObject({
      subject: sam,
      clientId: 'storefront-electronics',
      details: { granted: ['openid'], scopes: expect.arrayContaining(['offline_access', 'profile', 'email']) },
    });
    // The actor token still does its one job.
    expect((await exchange(running, onBehalfParams(oleg, tokens.access_token))).status).toBe(200);
  });

  it('sign out, then exchange: refused', async () => {
    const { tokens, browser } = await greedyReauth('Sign-out test');
    const endUrl = client.buildEndSessionUrl(await storefront(running), {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: 'http://localhost:4001/electronics/',
    });
    const confirm = await browser.follow(endUrl.toString());
    await browser.submit(confirm, '/session/end/confirm', { logout: 'yes' });

    const after = await exchange(running, onBehalfParams(oleg, tokens.access_token));
    expect(after.status).toBe(400);
    expect(after.body.error).toBe('invalid_request');
    const [revoked] = (await running.behalf.audit.events.query({ type: 'on_behalf.reauth_revoked', subject: sam })).events;
    expect(revoked).toMatchObject({ actor: sam, details: { reason: 'agent_logout' } });
  });

  it('kill switch, then refresh or exchange: refused', async () => {
    const { tokens } = await greedyReauth('Kill-switch test');
    // No refresh token to keep minting agent tokens after the kill switch …
    expect(tokens.refresh_token).toBeUndefined();
    const adminToken = await portalToken(running.issuer, 'ada', 'openid profile');
    const killed = await fetch(`${running.issuer}/admin/on-behalf/agents/${sam}/end-all`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(killed.status).toBe(200);
    // … and the actor token that never opened a session cannot open one now.
    const after = await exchange(running, onBehalfParams(oleg, tokens.access_token));
    expect(after.status).toBe(400);
    expect(after.body.error).toBe('invalid_request');
  });

  it('sessions end-all (CLI) revokes the agent’s re-authentication grants too', async () => {
    const { tokens } = await greedyReauth('CLI kill-switch test');
    const out = { stdout: '', stderr: '' };
    const code = await runCli(
      ['sessions', 'end-all', 'support@example.com'],
      { stdout: { write: (t: string) => (out.stdout += t) }, stderr: { write: (t: string) => (out.stderr += t) } },
      { env: { NODE_ENV: 'test', DATABASE_URL: running.database.url } },
    );
    expect(code).toBe(0);
    const after = await exchange(running, onBehalfParams(oleg, tokens.access_token));
    expect(after.status).toBe(400);
    const live = (await running.behalf.dataSource.query(
      `SELECT count(*)::int AS n FROM on_behalf_reauth WHERE agent_account_id = $1 AND grant_revoked_at IS NULL`,
      [sam],
    )) as { n: number }[];
    expect(live[0]!.n).toBe(0);
  });
});
