/** The customer's own API: who logged in on their behalf, and ending a session that still runs. */
import { decodeJwt, type JSONWebKeySet } from 'jose';
import { verifyProofBundle } from '../../src/audit/index.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { codeFlowTokens, customerTokens } from '../support/oauth.js';
import { customerId, exchange, onBehalfParams, reauthenticate, staffId } from '../support/on-behalf.js';
import { portalToken } from '../support/staff.js';

let running: RunningBehalf;
let oleg: string;
let olegToken: string;

beforeAll(async () => {
  running = await startBehalf();
  oleg = await customerId(running, 'electronics', 'oleg@example.com');
  olegToken = (await customerTokens(running.issuer)).access_token;
});
afterAll(async () => {
  await running?.stop();
});

function call(path: string, token: string | undefined, method = 'GET') {
  return fetch(`${running.issuer}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
}

it('lists the on-behalf sessions on the customer’s account and lets the customer end one', async () => {
  const { actorToken } = await reauthenticate(running, { customer: oleg, reason: 'Order stuck at payment', ticket: 'T-77' });
  const sid = String(decodeJwt(String((await exchange(running, onBehalfParams(oleg, actorToken))).body.access_token)).obo_sid);

  const listed = (await (await call('/account/on-behalf-sessions', olegToken)).json()) as { sessions: Record<string, unknown>[] };
  expect(listed.sessions[0]).toMatchObject({
    id: sid,
    agent: { id: await staffId(running, 'support@example.com'), name: 'Sam Support' },
    client: { id: 'storefront-electronics', name: 'Electronics storefront' },
    reason: 'Order stuck at payment',
    ticket: 'T-77',
    active: true,
    ended_at: null,
  });

  const ended = await call(`/account/on-behalf-sessions/${sid}/end`, olegToken, 'POST');
  expect(ended.status).toBe(200);
  expect(await ended.json()).toMatchObject({ id: sid, active: false, end_reason: 'ended_by_customer' });
  const [event] = (await running.behalf.audit.events.query({ type: 'on_behalf.ended', sessionId: sid })).events;
  expect(event).toMatchObject({ actor: oleg, subject: oleg, details: { reason: 'ended_by_customer' } });
  expect((await exchange(running, onBehalfParams(oleg, actorToken))).body.error).toBe('invalid_request');
});

it('keeps customers to their own sessions and refuses other tokens', async () => {
  const { actorToken } = await reauthenticate(running, { customer: oleg });
  const sid = String(decodeJwt(String((await exchange(running, onBehalfParams(oleg, actorToken))).body.access_token)).obo_sid);
  const anna = (
    await codeFlowTokens(
      running.issuer,
      'storefront-electronics',
      'storefront-demo-secret',
      'http://localhost:4001/electronics/callback',
      'anna@example.com',
      'Customer-Demo-2026',
    )
  ).access_token;
  expect((await call(`/account/on-behalf-sessions/${sid}/end`, anna, 'POST')).status).toBe(404);
  expect(((await (await call('/account/on-behalf-sessions', anna)).json()) as { sessions: unknown[] }).sessions).toHaveLength(0);

  const staff = await portalToken(running.issuer, 'sam', 'openid profile');
  expect((await call('/account/on-behalf-sessions', staff)).status).toBe(403);
  const anonymous = await call('/account/on-behalf-sessions', undefined);
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
  expect((await call('/account/on-behalf-sessions/not-a-uuid/end', olegToken, 'POST')).status).toBe(404);
});

it('gives the customer a proof of a session’s audit records that verifies offline with Behalf’s published keys', async () => {
  const { actorToken } = await reauthenticate(running, { customer: oleg, reason: 'Proof please' });
  const sid = String(decodeJwt(String((await exchange(running, onBehalfParams(oleg, actorToken))).body.access_token)).obo_sid);
  await call(`/account/on-behalf-sessions/${sid}/end`, olegToken, 'POST');
  await running.behalf.audit.checkpoint(); // what the sequencer does within a second
  const response = await call(`/account/on-behalf-sessions/${sid}/proof`, olegToken);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-disposition')).toMatch(/attachment; filename="on-behalf-session-.*\.proof\.json"/);
  const body = (await response.json()) as { proofs: { event: { type: string; session_id: string } }[]; not_yet_provable: number };
  expect(body.not_yet_provable).toBe(0);
  expect(body.proofs.map((proof) => proof.event.type)).toEqual(expect.arrayContaining(['on_behalf.started', 'on_behalf.ended']));
  const keys = (await (await fetch(`${running.issuer}/jwks`)).json()) as JSONWebKeySet;
  for (const proof of body.proofs) {
    expect(proof.event.session_id).toBe(sid);
    expect(await verifyProofBundle(proof, { keys, issuer: running.issuer })).toMatchObject({ ok: true });
  }
  const anna = (await customerTokens(running.issuer, 'anna@example.com')).access_token;
  expect((await call(`/account/on-behalf-sessions/${sid}/proof`, anna)).status).toBe(404);
});
