/**
 * The agent's own on-behalf sessions API (`/agent/on-behalf/…`), over real
 * HTTP with real tokens: an agent lists and ends only their own sessions, with
 * the customer named; ending is audited with the agent as actor; other
 * agents' sessions are not found; customers and anonymous callers are refused.
 */
import { decodeJwt } from 'jose';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { customerTokens } from '../support/oauth.js';
import { customerId, exchange, onBehalfParams, reauthenticate, staffId } from '../support/on-behalf.js';
import { portalToken } from '../support/staff.js';

interface AgentSession {
  id: string;
  active: boolean;
  end_reason: string | null;
  reason: string;
  ticket: string | null;
  customer: { id: string; name: string | null; email: string | null; store: { slug: string; name: string } | null };
}
interface AgentList {
  agent: { id: string; name: string };
  may_login_on_behalf: boolean;
  max_concurrent_sessions: number;
  sessions: AgentSession[];
}

let running: RunningBehalf;
let sam: string;
let bea: string;
let samToken: string;
let beaToken: string;
let olegElectronics: string;
let olegBooks: string;

beforeAll(async () => {
  running = await startBehalf({ overrides: { onBehalf: { maxConcurrentSessions: 10 } } });
  [sam, bea, olegElectronics, olegBooks] = await Promise.all([
    staffId(running, 'support@example.com'),
    staffId(running, 'books-support@example.com'),
    customerId(running, 'electronics', 'oleg@example.com'),
    customerId(running, 'books', 'oleg@example.com'),
  ]);
  // Portal tokens with openid only: the agent API asks no scope of its own, only an active staff account.
  [samToken, beaToken] = await Promise.all([portalToken(running.issuer, 'sam', 'openid'), portalToken(running.issuer, 'bea', 'openid')]);
});
afterAll(async () => {
  await running?.stop();
});

function call(path: string, token: string | undefined, method = 'GET') {
  return fetch(`${running.issuer}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
}

async function openSession(options: {
  customer: string;
  store?: string;
  email?: string;
  reason?: string;
  ticket?: string;
}): Promise<string> {
  const { actorToken } = await reauthenticate(running, options);
  const response = await exchange(running, onBehalfParams(options.customer, actorToken), options.store);
  expect(response.status).toBe(200);
  return String(decodeJwt(String(response.body.access_token)).obo_sid);
}

it('lists only the agent’s own sessions, with the customer by name, email and store', async () => {
  const mine = await openSession({ customer: olegElectronics, reason: 'Checkout fails', ticket: 'T-501' });
  const beas = await openSession({ customer: olegBooks, store: 'books', email: 'books-support@example.com' });

  const response = await call('/agent/on-behalf/sessions?active=true', samToken);
  expect(response.status).toBe(200);
  expect(response.headers.get('cache-control')).toBe('no-store');
  const list = (await response.json()) as AgentList;
  expect(list).toMatchObject({ agent: { id: sam, name: 'Sam Support' }, may_login_on_behalf: true, max_concurrent_sessions: 10 });
  expect(list.sessions.map((session) => session.id)).toContain(mine);
  expect(list.sessions.map((session) => session.id)).not.toContain(beas);
  expect(list.sessions.find((session) => session.id === mine)).toMatchObject({
    active: true,
    reason: 'Checkout fails',
    ticket: 'T-501',
    customer: { id: olegElectronics, name: 'Oleg Petrov', email: 'oleg@example.com', store: { slug: 'electronics', name: 'Electronics' } },
  });

  const beaList = (await (await call('/agent/on-behalf/sessions', beaToken)).json()) as AgentList;
  expect(beaList.agent.id).toBe(bea);
  expect(beaList.sessions.map((session) => session.id)).toEqual([beas]);
  // Vic holds no permission to log in on behalf, but may still ask for his (empty) list.
  const vic = (await (await call('/agent/on-behalf/sessions', await portalToken(running.issuer, 'vic', 'openid'))).json()) as AgentList;
  expect(vic).toMatchObject({ may_login_on_behalf: false, sessions: [] });
});

it('ends the agent’s own session (audited with the agent as actor) and not another agent’s (404)', async () => {
  const mine = await openSession({ customer: olegElectronics });
  const beas = await openSession({ customer: olegBooks, store: 'books', email: 'books-support@example.com' });

  const refused = await call(`/agent/on-behalf/sessions/${beas}/end`, samToken, 'POST');
  expect(refused.status).toBe(404);
  expect(await refused.json()).toMatchObject({ error: 'not_found' });
  expect(await running.behalf.onBehalf.session(beas)).toMatchObject({ endedAt: null });

  const ended = await call(`/agent/on-behalf/sessions/${mine}/end`, samToken, 'POST');
  expect(ended.status).toBe(200);
  expect(await ended.json()).toMatchObject({
    id: mine,
    active: false,
    end_reason: 'ended_by_agent',
    ended_now: true,
    customer: { name: 'Oleg Petrov' },
  });
  expect(await running.behalf.onBehalf.session(mine)).toMatchObject({ endedBy: sam, endReason: 'ended_by_agent' });
  const [event] = (await running.behalf.audit.events.query({ type: 'on_behalf.ended', sessionId: mine })).events;
  expect(event).toMatchObject({
    actor: sam,
    subject: olegElectronics,
    clientId: 'portal',
    details: { reason: 'ended_by_agent', agent: sam },
  });

  // Again: nothing more to end, and no second audit record.
  const again = await call(`/agent/on-behalf/sessions/${mine}/end`, samToken, 'POST');
  expect(again.status).toBe(200);
  expect(await again.json()).toMatchObject({ active: false, ended_now: false });
  expect((await running.behalf.audit.events.query({ type: 'on_behalf.ended', sessionId: mine })).events).toHaveLength(1);

  const past = (await (await call('/agent/on-behalf/sessions?active=false', samToken)).json()) as AgentList;
  expect(past.sessions.find((session) => session.id === mine)).toMatchObject({ active: false, end_reason: 'ended_by_agent' });
});

it('refuses customers’ tokens (403) and missing or made-up tokens (401)', async () => {
  const oleg = (await customerTokens(running.issuer)).access_token;
  const mine = await openSession({ customer: olegElectronics });
  expect((await call('/agent/on-behalf/sessions', oleg)).status).toBe(403);
  expect((await call(`/agent/on-behalf/sessions/${mine}/end`, oleg, 'POST')).status).toBe(403);
  for (const token of [undefined, 'made-up-token']) {
    const response = await call('/agent/on-behalf/sessions', token);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect((await call(`/agent/on-behalf/sessions/${mine}/end`, token, 'POST')).status).toBe(401);
  }
  expect(await running.behalf.onBehalf.session(mine)).toMatchObject({ endedAt: null });
});

it('refuses the agent’s actor token from a storefront re-authentication (403): back-office tokens only', async () => {
  const { actorToken } = await reauthenticate(running, { customer: olegElectronics });
  const refused = await call('/agent/on-behalf/sessions', actorToken);
  expect(refused.status).toBe(403);
  expect(await refused.json()).toMatchObject({ error: 'insufficient_scope' });
});

it('names agents and customers in the admin API’s list too', async () => {
  const id = await openSession({ customer: olegElectronics });
  const ada = await portalToken(running.issuer, 'ada', 'openid');
  const list = (await (await call(`/admin/on-behalf/sessions?agent=${sam}&active=true`, ada)).json()) as {
    sessions: (AgentSession & { agent: AgentSession['customer'] })[];
  };
  expect(list.sessions.find((session) => session.id === id)).toMatchObject({
    agent: { id: sam, name: 'Sam Support', email: 'support@example.com', store: null },
    customer: { id: olegElectronics, name: 'Oleg Petrov', email: 'oleg@example.com', store: { slug: 'electronics' } },
  });
});

it('answers bad ids and parameters with 400 or 404, never 500', async () => {
  for (const id of ['not-a-uuid', '00000000-0000-0000-0000-000000000000', "1'%20OR%20'1'='1", 'x'.repeat(300)]) {
    const response = await call(`/agent/on-behalf/sessions/${id}/end`, samToken, 'POST');
    expect([400, 404]).toContain(response.status);
  }
  expect((await call('/agent/on-behalf/sessions/00000000-0000-0000-0000-000000000000/end', samToken, 'POST')).status).toBe(404);
  for (const query of ['active=maybe', 'limit=0', 'limit=201', 'limit=abc', 'active=true&active=false']) {
    expect((await call(`/agent/on-behalf/sessions?${query}`, samToken)).status).toBe(400);
  }
  expect([404, 405]).toContain((await call('/agent/on-behalf/sessions', samToken, 'DELETE')).status);
});
