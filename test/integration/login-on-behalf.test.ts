/**
 * Login on behalf end to end over HTTP: the re-auth screen, the agent's
 * token, the RFC 8693 exchange, the session and its end.
 */
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { authorizationFor } from '../support/dpop.js';
import { customerId, exchange, ID_TOKEN, onBehalfParams, openReauth, reauthenticate, staffId } from '../support/on-behalf.js';
import { basic, postForm } from '../support/oauth.js';

let running: RunningBehalf;
let oleg: string;
let sam: string;

beforeAll(async () => {
  running = await startBehalf();
  oleg = await customerId(running, 'electronics', 'oleg@example.com');
  sam = await staffId(running, 'support@example.com');
});
afterAll(async () => {
  await running?.stop();
});

describe('the re-authentication screen', () => {
  it('names the customer and the store, and asks for email, password, reason and ticket', async () => {
    const { page } = await openReauth(running, { customer: oleg });
    expect(page.status).toBe(200);
    expect(page.html).toContain(
      'Confirm it is you to sign in as <strong>Oleg Petrov</strong> (oleg@example.com) at <strong>Electronics</strong>',
    );
    for (const label of ['Email', 'Password', 'Reason']) expect(page.html).toContain(`>${label}</label>`);
    expect(page.html).toMatch(/Ticket id/);
    expect(page.html).toContain('>Confirm</button>');
    expect(page.html).toContain('>Cancel</button>');
  });
});

describe('the exchange', () => {
  it('issues an RFC 9068 JWT for the orders API with sub = customer and act.sub = agent', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg, ticket: 'SUP-1234' });
    const response = await exchange(running, onBehalfParams(oleg, actorToken));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body).toMatchObject({
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      // Bound to the storefront's key: the demo storefront clients require DPoP for on-behalf tokens.
      token_type: 'DPoP',
      expires_in: 600,
      scope: 'orders:read orders:write',
    });
    expect(response.body.refresh_token).toBeUndefined();
    const token = String(response.body.access_token);
    const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(`${running.issuer}/jwks`)), {
      issuer: running.issuer,
      audience: 'http://localhost:4003',
      typ: 'at+jwt',
    });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({ sub: oleg, act: { sub: sam }, client_id: 'storefront-electronics', scope: 'orders:read orders:write' });
    expect(payload.exp! - payload.iat!).toBe(600);
    expect(typeof payload.obo_sid).toBe('string');

    // oauth4webapi's RFC 9068 validation, as a resource server would run it.
    const as = await oauth.processDiscoveryResponse(
      new URL(running.issuer),
      await oauth.discoveryRequest(new URL(running.issuer), { [oauth.allowInsecureRequests]: true }),
    );
    // Bound to the storefront's DPoP key (RFC 9449): presented with a proof, as the storefront does.
    const request = new Request('http://localhost:4003/orders', {
      headers: await authorizationFor(token, 'GET', 'http://localhost:4003/orders'),
    });
    const claims = await oauth.validateJwtAccessToken(as, request, 'http://localhost:4003', { [oauth.allowInsecureRequests]: true });
    expect(claims.sub).toBe(oleg);

    const session = await running.behalf.onBehalf.session(String(payload.obo_sid));
    expect(session).toMatchObject({
      agentId: sam,
      customerId: oleg,
      clientId: 'storefront-electronics',
      ticket: 'SUP-1234',
      endedAt: null,
    });
    const [started] = (await running.behalf.audit.events.query({ type: 'on_behalf.started' })).events;
    expect(started).toMatchObject({ actor: sam, subject: oleg, sessionId: session!.id, details: { ticket: 'SUP-1234' } });
  });

  it('continues the session with the same actor token and gives the banner an ID token with the agent’s name', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    const first = decodeJwt(String((await exchange(running, onBehalfParams(oleg, actorToken))).body.access_token));
    const second = decodeJwt(
      String((await exchange(running, onBehalfParams(oleg, actorToken, { scope: 'orders:read' }))).body.access_token),
    );
    expect(second.obo_sid).toBe(first.obo_sid);
    expect(second.scope).toBe('orders:read');

    const idResponse = await exchange(running, onBehalfParams(oleg, actorToken, { requested_token_type: ID_TOKEN }));
    expect(idResponse.status).toBe(200);
    expect(idResponse.body).toMatchObject({ issued_token_type: ID_TOKEN, token_type: 'N_A' });
    const { payload } = await jwtVerify(String(idResponse.body.access_token), createRemoteJWKSet(new URL(`${running.issuer}/jwks`)), {
      issuer: running.issuer,
      audience: 'storefront-electronics',
    });
    expect(payload).toMatchObject({ sub: oleg, name: 'Oleg Petrov', act: { sub: sam, name: 'Sam Support' }, obo_sid: first.obo_sid });
  });

  it('ends the session from the storefront; the status endpoint says so and the actor token opens nothing new', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    const sid = String(decodeJwt(String((await exchange(running, onBehalfParams(oleg, actorToken))).body.access_token)).obo_sid);
    const auth = { authorization: basic('storefront-electronics', 'storefront-demo-secret') };
    const before = await fetch(`${running.issuer}/on-behalf/sessions/${sid}/status`, { headers: auth });
    expect(await before.json()).toMatchObject({ session_id: sid, active: true });

    const ended = await postForm(`${running.issuer}/on-behalf/sessions/end`, new URLSearchParams({ session_id: sid }), auth);
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({ active: false, end_reason: 'ended_by_client' });
    const orders = await fetch(`${running.issuer}/on-behalf/sessions/${sid}/status`, {
      headers: { authorization: basic('orders-api', 'orders-api-demo-secret') },
    });
    expect(await orders.json()).toMatchObject({ active: false, end_reason: 'ended_by_client' });

    const again = await exchange(running, onBehalfParams(oleg, actorToken));
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/session has ended/) });
    const [endedEvent] = (await running.behalf.audit.events.query({ type: 'on_behalf.ended' })).events;
    expect(endedEvent).toMatchObject({
      actor: 'client:storefront-electronics',
      subject: oleg,
      sessionId: sid,
      details: { reason: 'ended_by_client' },
    });
  });
});
