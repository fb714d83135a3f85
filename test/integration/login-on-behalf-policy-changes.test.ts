/**
 * What happens when the world changes under a running on-behalf session, and
 * denials that oidc-provider makes before the exchange handler runs.
 */
import { decodeJwt } from 'jose';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { tokenRequest } from '../support/oauth.js';
import { ACCOUNT_ID, customerId, exchange, onBehalfParams, reauthenticate, staffId, TOKEN_EXCHANGE } from '../support/on-behalf.js';

let running: RunningBehalf;
let anna: string;

beforeAll(async () => {
  running = await startBehalf();
  anna = await customerId(running, 'electronics', 'anna@example.com');
});
afterAll(async () => {
  await running?.stop();
});

it('ends the session when the agent loses the permission mid-session', async () => {
  const sam = await staffId(running, 'support@example.com');
  const electronics = (await running.behalf.stores.findBySlug('electronics'))!.id;
  const started = await reauthenticate(running, { customer: anna });
  const sid = String(decodeJwt(String((await exchange(running, onBehalfParams(anna, started.actorToken))).body.access_token)).obo_sid);

  await running.behalf.accounts.revokePermission(sam, 'security:loginOnBehalf', electronics);
  try {
    const refused = await exchange(running, onBehalfParams(anna, started.actorToken));
    expect(refused.body.error).toBe('invalid_request');
    expect(await running.behalf.onBehalf.session(sid)).toMatchObject({ endReason: 'policy_revoked', endedBy: 'system' });
    const [ended] = (await running.behalf.audit.events.query({ type: 'on_behalf.ended', sessionId: sid })).events;
    expect(ended).toMatchObject({ actor: 'system', details: { reason: 'policy_revoked' } });
  } finally {
    await running.behalf.accounts.grantPermission(sam, 'security:loginOnBehalf', electronics);
  }
});

it('ends the session when the customer is disabled mid-session', async () => {
  const { actorToken } = await reauthenticate(running, { customer: anna });
  const sid = String(decodeJwt(String((await exchange(running, onBehalfParams(anna, actorToken))).body.access_token)).obo_sid);
  await running.behalf.accounts.setStatus(anna, 'disabled');
  try {
    expect((await exchange(running, onBehalfParams(anna, actorToken))).body.error).toBe('invalid_request');
    expect(await running.behalf.onBehalf.session(sid)).toMatchObject({ endReason: 'policy_revoked' });
  } finally {
    await running.behalf.accounts.setStatus(anna, 'active');
  }
});

it('audits exchanges refused before the handler runs (client not allowed the grant)', async () => {
  const before = await running.behalf.audit.events.mark();
  const response = await tokenRequest(running.issuer, 'integrator-demo', 'integrator-demo-secret', {
    grant_type: TOKEN_EXCHANGE,
    subject_token: anna,
    subject_token_type: ACCOUNT_ID,
  });
  expect(response.body.error).toBe('unauthorized_client');
  const [denied] = (await running.behalf.audit.events.query({ type: 'on_behalf.denied' })).events;
  expect(denied!.qid).toBeGreaterThan(before);
  expect(denied).toMatchObject({
    actor: 'client:integrator-demo',
    details: { error: 'unauthorized_client', reason: 'refused_before_exchange' },
  });
});

it('answers 503 temporarily_unavailable when the exchange cannot be recorded', async () => {
  const { actorToken } = await reauthenticate(running, { customer: anna });
  await running.behalf.dataSource.query('ALTER FUNCTION audit_event_enqueue RENAME TO audit_event_enqueue_off');
  try {
    const response = await exchange(running, onBehalfParams(anna, actorToken));
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ error: 'temporarily_unavailable' });
    expect(response.body.access_token).toBeUndefined();
  } finally {
    await running.behalf.dataSource.query('ALTER FUNCTION audit_event_enqueue_off RENAME TO audit_event_enqueue');
  }
  expect((await exchange(running, onBehalfParams(anna, actorToken))).status).toBe(200);
});
