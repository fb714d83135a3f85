/** Every way an on-behalf session ends: admin API, kill switch, CLI, agent logout, expiry. Each audited. */
import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import { runCli } from '../../src/cli/index.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { customerId, exchange, onBehalfParams, openReauth, reauthenticate, staffId, storefront } from '../support/on-behalf.js';
import { portalToken } from '../support/staff.js';

let running: RunningBehalf;
let oleg: string;
let anna: string;
let sam: string;
let adminToken: string;

beforeAll(async () => {
  running = await startBehalf({ overrides: { onBehalf: { maxConcurrentSessions: 10 } } });
  oleg = await customerId(running, 'electronics', 'oleg@example.com');
  anna = await customerId(running, 'electronics', 'anna@example.com');
  sam = await staffId(running, 'support@example.com');
  adminToken = await portalToken(running.issuer, 'ada', 'openid profile');
});
afterAll(async () => {
  await running?.stop();
});

async function openSession(customer = oleg): Promise<string> {
  const { actorToken } = await reauthenticate(running, { customer });
  const response = await exchange(running, onBehalfParams(customer, actorToken));
  expect(response.status).toBe(200);
  return String(decodeJwt(String(response.body.access_token)).obo_sid);
}

function admin(path: string, method = 'GET', token = adminToken) {
  return fetch(`${running.issuer}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
}

async function endedEvent(sessionId: string) {
  return (await running.behalf.audit.events.query({ type: 'on_behalf.ended', sessionId })).events[0];
}

describe('admin API', () => {
  it('lists sessions, ends one, and ends all of an agent (kill switch)', async () => {
    const first = await openSession(oleg);
    const second = await openSession(anna);
    const listed = (await (await admin(`/admin/on-behalf/sessions?agent=${sam}&active=true`)).json()) as {
      sessions: { id: string; reason: string }[];
    };
    expect(listed.sessions.map((session) => session.id)).toEqual(expect.arrayContaining([first, second]));
    expect(listed.sessions[0]!.reason).toBe('Customer cannot complete checkout');

    const ended = await admin(`/admin/on-behalf/sessions/${first}/end`, 'POST');
    expect(ended.status).toBe(200);
    expect(await ended.json()).toMatchObject({ id: first, active: false, end_reason: 'ended_by_admin' });
    const adminId = await staffId(running, 'admin@example.com');
    expect(await endedEvent(first)).toMatchObject({ actor: adminId, subject: oleg, details: { reason: 'ended_by_admin' } });

    const all = await admin(`/admin/on-behalf/agents/${sam}/end-all`, 'POST');
    expect(await all.json()).toMatchObject({ ended: expect.any(Number) });
    expect(await endedEvent(second)).toMatchObject({ actor: adminId, details: { reason: 'kill_switch' } });
    const active = (await (await admin(`/admin/on-behalf/sessions?agent=${sam}&active=true`)).json()) as { sessions: unknown[] };
    expect(active.sessions).toHaveLength(0);
  });

  it('is for admins only, and validates its input', async () => {
    const support = await portalToken(running.issuer, 'sam', 'openid profile');
    expect((await admin('/admin/on-behalf/sessions', 'GET', support)).status).toBe(403);
    expect((await admin('/admin/on-behalf/sessions?agent=nope')).status).toBe(400);
    expect((await admin('/admin/on-behalf/sessions/00000000-0000-4000-8000-000000000000/end', 'POST')).status).toBe(404);
  });
});

describe('CLI', () => {
  async function cli(...argv: string[]) {
    const out = { code: 0, stdout: '', stderr: '' };
    out.code = await runCli(
      argv,
      { stdout: { write: (t: string) => (out.stdout += t) }, stderr: { write: (t: string) => (out.stderr += t) } },
      { env: { NODE_ENV: 'test', DATABASE_URL: running.database.url } },
    );
    return out;
  }

  it('lists, ends one and ends all; the ends are audited as the operator and the tokens die', async () => {
    const id = await openSession();
    const listed = JSON.parse((await cli('sessions', 'list', '--active', '--json')).stdout) as { id: string }[];
    expect(listed.map((session) => session.id)).toContain(id);
    const ended = await cli('sessions', 'end', id);
    expect(ended).toMatchObject({ code: 0, stdout: `session ${id} ended\n` });
    expect((await endedEvent(id))!.actor).toMatch(/^cli:/);
    expect((await cli('sessions', 'end', id)).stdout).toMatch(/had already ended/);

    await openSession();
    const all = await cli('sessions', 'end-all', 'support@example.com');
    expect(all.stdout).toMatch(/^ended 1 active on-behalf session\(s\) of support@example.com/);
    expect((await cli('sessions', 'end', 'not-a-session')).code).toBe(1);
  });

  it('disabling an account ends the on-behalf sessions it takes part in', async () => {
    const id = await openSession(anna);
    expect((await cli('accounts', 'disable', 'anna@example.com', '--store', 'electronics')).code).toBe(0);
    try {
      expect(await running.behalf.onBehalf.session(id)).toMatchObject({ endReason: 'account_disabled' });
      expect((await endedEvent(id))!.actor).toMatch(/^cli:/);
    } finally {
      expect((await cli('accounts', 'enable', 'anna@example.com', '--store', 'electronics')).code).toBe(0);
    }
  });
});

describe('agent logout and expiry', () => {
  it('ends the agent’s sessions when the agent signs out of Behalf', async () => {
    const { page, browser, config, verifier, state } = await openReauth(running, { customer: oleg });
    const done = await browser.submit(page, '/reauth', {
      email: 'support@example.com',
      password: 'Support-Demo-2026',
      reason: 'Logout test',
    });
    const tokens = await client.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state });
    const id = String(decodeJwt(String((await exchange(running, onBehalfParams(oleg, tokens.access_token))).body.access_token)).obo_sid);
    const endUrl = client.buildEndSessionUrl(await storefront(running), {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: 'http://localhost:4001/electronics/',
    });
    const confirm = await browser.follow(endUrl.toString());
    await browser.submit(confirm, '/session/end/confirm', { logout: 'yes' });
    expect(await running.behalf.onBehalf.session(id)).toMatchObject({ endReason: 'agent_logout', endedBy: sam });
    expect(await endedEvent(id)).toMatchObject({ actor: sam, details: { reason: 'agent_logout' } });
  });

  it('closes expired sessions, audited as the system', async () => {
    const id = await openSession();
    await running.behalf.dataSource.query(
      `UPDATE on_behalf_session SET started_at = now() - interval '2 hours', expires_at = now() - interval '1 hour' WHERE id = $1`,
      [id],
    );
    expect(await running.behalf.onBehalf.endExpired()).toBeGreaterThanOrEqual(1);
    expect(await running.behalf.onBehalf.session(id)).toMatchObject({ endReason: 'expired', endedBy: 'system' });
    expect(await endedEvent(id)).toMatchObject({ actor: 'system', details: { reason: 'expired' } });
  });
});
