/**
 * RFC 8693 delegation end to end over HTTP, on a real Behalf and PostgreSQL:
 * the demo path (a customer's on-behalf token for the orders API exchanged by
 * orders-api for the payments service; an integrator's token naming
 * orders-api in may_act), chains of delegation, and the attacks on them —
 * each refusal with its exact error code.
 */
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import {
  clientToken,
  createDelegationDatabase,
  delegate,
  introspect,
  JWT_TYPE,
  LEDGER,
  ORDERS,
  PAYMENTS,
  revoke,
  SHIPPING,
  VAULT,
  verifiedToken,
} from '../support/delegation.js';
import type { TestDatabase } from '../support/database.js';
import { basic, postForm, type JsonResponse } from '../support/oauth.js';
import { customerId, exchange, onBehalfParams, reauthenticate, staffId } from '../support/on-behalf.js';

let database: TestDatabase;
let running: RunningBehalf;
let oleg: string;
let sam: string;
/** Oleg's on-behalf token for the orders API (sub = Oleg, act.sub = Sam), as the storefront got it. */
let customerToken: string;

beforeAll(async () => {
  database = await createDelegationDatabase();
  running = await startBehalf({ database });
  oleg = await customerId(running, 'electronics', 'oleg@example.com');
  sam = await staffId(running, 'support@example.com');
  const { actorToken } = await reauthenticate(running, { customer: oleg });
  const response = await exchange(running, onBehalfParams(oleg, actorToken));
  expect(response.status).toBe(200);
  customerToken = String(response.body.access_token);
});
afterAll(async () => {
  await running?.stop();
  await database?.drop();
});

function expectRefusal(response: JsonResponse, error: string, description: RegExp): void {
  expect({ status: response.status, error: response.body.error }).toEqual({ status: 400, error });
  expect(String(response.body.error_description)).toMatch(description);
  expect(response.body.access_token).toBeUndefined();
}

/** orders-api's exchange of the customer's token for the payments service: the first link of every chain below. */
async function ordersToPayments(): Promise<string> {
  const response = await delegate(running, 'orders-api', customerToken, { resource: PAYMENTS });
  expect(response.status).toBe(200);
  return String(response.body.access_token);
}

describe('the demo delegation', () => {
  it('orders-api exchanges a customer’s on-behalf token for the payments service, nesting the agent under itself', async () => {
    const subject = decodeJwt(customerToken);
    const response = await delegate(running, 'orders-api', customerToken, { audience: 'payments' });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body).toMatchObject({
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      // The on-behalf subject is DPoP-bound, so the derived token is bound too (to orders-api's key).
      token_type: 'DPoP',
      scope: 'orders:read orders:write',
    });
    expect(response.body.refresh_token).toBeUndefined();

    const payload = await verifiedToken(running, response, PAYMENTS);
    expect(payload).toMatchObject({
      sub: oleg,
      aud: PAYMENTS,
      client_id: 'orders-api',
      act: { sub: 'orders-api', act: { sub: sam } },
      obo_sid: subject.obo_sid,
    });
    expect(payload.exp!).toBeLessThanOrEqual(subject.exp!);
    expect(Number(response.body.expires_in)).toBeLessThanOrEqual(subject.exp! - payload.iat!);

    // Fail closed: the record exists, naming the whole chain and the token it let out.
    const { events } = await running.behalf.audit.events.query({ type: 'delegation.issued' });
    expect(events.find((event) => event.details.jti === payload.jti)).toMatchObject({
      actor: 'client:orders-api',
      subject: oleg,
      clientId: 'orders-api',
      sessionId: subject.obo_sid,
      details: {
        act_chain: ['orders-api', sam],
        audience: PAYMENTS,
        scope: 'orders:read orders:write',
        subject_token: { format: 'jwt', jti: subject.jti },
      },
    });
  });

  it('defaults to the single target of the client’s rules, accepts subject_token_type jwt and honours requested_token_type jwt', async () => {
    const response = await delegate(running, 'orders-api', customerToken, {
      subject_token_type: JWT_TYPE,
      requested_token_type: JWT_TYPE,
      scope: 'orders:read',
    });
    expect(response.body).toMatchObject({ issued_token_type: JWT_TYPE, scope: 'orders:read' });
    expect(await verifiedToken(running, response, PAYMENTS)).toMatchObject({ sub: oleg, scope: 'orders:read' });
  });

  it('accepts orders-api’s own client-credentials token as actor_token: the actor is still orders-api', async () => {
    const own = await clientToken(running, 'orders-api', PAYMENTS);
    const response = await delegate(running, 'orders-api', customerToken, {
      actor_token: own,
      actor_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    });
    expect(await verifiedToken(running, response, PAYMENTS)).toMatchObject({ act: { sub: 'orders-api', act: { sub: sam } } });
  });

  it('accepts an integrator token naming orders-api in may_act for orders-api, and refuses another client that operates the orders API', async () => {
    const integrator = await clientToken(running, 'integrator-demo', ORDERS);
    expect(decodeJwt(integrator).may_act).toEqual({ sub: 'orders-api' });

    const payload = await verifiedToken(running, await delegate(running, 'orders-api', integrator), PAYMENTS);
    expect(payload).toMatchObject({ sub: 'integrator-demo', client_id: 'orders-api', act: { sub: 'orders-api' }, scope: 'orders:read' });
    expect(payload.act).not.toHaveProperty('act');

    expectRefusal(
      await delegate(running, 'orders-replica', integrator),
      'invalid_request',
      /allows only orders-api to act .*may_act.*not orders-replica/,
    );
    expectRefusal(await delegate(running, 'payments-svc', integrator), 'invalid_request', /not meant for this client/);
  });

  it('lets a client named in may_act exchange a token whose audience it does not operate, within its rule’s scope', async () => {
    const partner = await clientToken(running, 'partner-app', ORDERS, 'orders:read orders:write');
    const payload = await verifiedToken(running, await delegate(running, 'payments-svc', partner), SHIPPING);
    expect(payload).toMatchObject({ sub: 'partner-app', act: { sub: 'payments-svc' }, scope: 'orders:read' });
    expectRefusal(await delegate(running, 'payments-svc', partner, { scope: 'orders:write' }), 'invalid_scope', /orders:write is beyond/);
  });
});

describe('chains', () => {
  it('keeps every earlier actor nested through re-exchanges (act stripping does not work)', async () => {
    const toPayments = await ordersToPayments();
    const second = await delegate(running, 'payments-svc', toPayments, { resource: SHIPPING });
    const payload = await verifiedToken(running, second, SHIPPING);
    expect(payload).toMatchObject({ sub: oleg, act: { sub: 'payments-svc', act: { sub: 'orders-api', act: { sub: sam } } } });

    // A delegated token cannot stand in for the acting party to restart the chain.
    expectRefusal(
      await delegate(running, 'orders-api', customerToken, {
        actor_token: toPayments,
        actor_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      }),
      'invalid_request',
      /actor_token already carries an act claim/,
    );
  });

  it('refuses circular chains', async () => {
    const toPayments = await ordersToPayments();
    const backToOrders = await delegate(running, 'payments-svc', toPayments, { resource: ORDERS });
    expect(await verifiedToken(running, backToOrders, ORDERS)).toMatchObject({ act: { sub: 'payments-svc', act: { sub: 'orders-api' } } });
    expectRefusal(
      await delegate(running, 'orders-api', String(backToOrders.body.access_token)),
      'invalid_request',
      /orders-api is already the subject or an earlier actor/,
    );

    const integrator = await clientToken(running, 'integrator-demo', ORDERS);
    const fromIntegrator = String((await delegate(running, 'orders-api', integrator)).body.access_token);
    const shipping = String((await delegate(running, 'payments-svc', fromIntegrator, { resource: SHIPPING })).body.access_token);
    const loop = await delegate(running, 'shipping-svc', shipping);
    expect(loop.status).toBe(200);
    expectRefusal(
      await delegate(running, 'payments-svc', String(loop.body.access_token), { resource: SHIPPING }),
      'invalid_request',
      /payments-svc is already/,
    );
  });

  it('refuses a chain deeper than delegation.maxChainDepth (4)', async () => {
    expect(running.config.delegation.maxChainDepth).toBe(4);
    const toPayments = await ordersToPayments(); // Sam, orders-api
    const toShipping = String((await delegate(running, 'payments-svc', toPayments, { resource: SHIPPING })).body.access_token); // + payments-svc
    const backToPayments = await delegate(running, 'shipping-svc', toShipping); // + shipping-svc: four actors
    expect(actorSubs(decodeJwt(String(backToPayments.body.access_token)).act)).toEqual(['shipping-svc', 'payments-svc', 'orders-api', sam]);
    expectRefusal(
      await delegate(running, 'payments-replica', String(backToPayments.body.access_token)),
      'invalid_request',
      /would have 5 actors; at most 4/,
    );
  });

  it('never lives longer than its subject: a 45-second token exchanged for a 600-second resource stays within its 45 seconds', async () => {
    const toPayments = await ordersToPayments();
    const short = await delegate(running, 'payments-svc', toPayments, { resource: SHIPPING });
    const shortPayload = decodeJwt(String(short.body.access_token));
    expect(shortPayload.exp! - shortPayload.iat!).toBe(45);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const longer = await delegate(running, 'shipping-svc', String(short.body.access_token));
    const payload = await verifiedToken(running, longer, PAYMENTS);
    expect(payload.exp!).toBeLessThanOrEqual(shortPayload.exp!);
    expect(Number(longer.body.expires_in)).toBeLessThan(45);
  });
});

describe('refusals', () => {
  it('refuses chain splicing: a subject from one chain with an actor token of another client', async () => {
    const integrator = await clientToken(running, 'integrator-demo', ORDERS);
    const spliced = await delegate(running, 'orders-api', customerToken, {
      actor_token: integrator,
      actor_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    });
    expectRefusal(spliced, 'invalid_request', /actor_token was issued to another client \(integrator-demo\)/);

    const toPayments = await ordersToPayments();
    const shippingOwn = await clientToken(running, 'shipping-svc', PAYMENTS);
    const other = await delegate(running, 'payments-svc', toPayments, {
      resource: SHIPPING,
      actor_token: shippingOwn,
      actor_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    });
    expectRefusal(other, 'invalid_request', /actor_token was issued to another client \(shipping-svc\)/);
  });

  it('refuses a subject/actor swap', async () => {
    const own = await clientToken(running, 'orders-api', PAYMENTS);
    const swapped = await delegate(running, 'orders-api', own, {
      actor_token: customerToken,
      actor_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    });
    expectRefusal(swapped, 'invalid_request', /subject_token is not meant for this client/);
  });

  it('refuses a token not meant for the requesting client, and audits the denial', async () => {
    const response = await delegate(running, 'payments-svc', customerToken, { resource: SHIPPING });
    expectRefusal(
      response,
      'invalid_request',
      /not meant for this client: its audience is http:\/\/localhost:4003, and payments-svc neither operates it/,
    );
    const { events } = await running.behalf.audit.events.query({ type: 'delegation.denied', limit: 5 });
    expect(events[0]).toMatchObject({
      actor: 'client:payments-svc',
      subject: oleg,
      clientId: 'payments-svc',
      details: { error: 'invalid_request', reason: 'not_audience' },
    });
  });

  it('refuses scope escalation beyond the subject token', async () => {
    const integrator = await clientToken(running, 'integrator-demo', ORDERS, 'orders:read');
    expectRefusal(
      await delegate(running, 'orders-api', integrator, { scope: 'orders:read orders:write' }),
      'invalid_scope',
      /orders:write is beyond what subject_token allows/,
    );
  });

  it('refuses unknown, unauthorised, undelegable and ambiguous targets with invalid_target', async () => {
    expectRefusal(
      await delegate(running, 'orders-api', customerToken, { resource: 'http://localhost:4999' }),
      'invalid_target',
      /unknown resource or audience/,
    );
    expectRefusal(
      await delegate(running, 'orders-api', customerToken, { audience: 'orders' }),
      'invalid_target',
      /may not get tokens for http:\/\/localhost:4003/,
    );
    const toPayments = await ordersToPayments();
    expectRefusal(
      await delegate(running, 'payments-svc', toPayments, { resource: [SHIPPING, ORDERS] }),
      'invalid_target',
      /must name one resource server/,
    );
    expectRefusal(await delegate(running, 'payments-svc', toPayments), 'invalid_target', /name the target with resource or audience/);
    // payments-svc may get tokens for the orders API, but no rule lets it turn an orders token into one.
    const partner = await clientToken(running, 'partner-app', ORDERS);
    expectRefusal(
      await delegate(running, 'payments-svc', partner, { resource: ORDERS }),
      'invalid_target',
      /may not delegate this token to http:\/\/localhost:4003; it may delegate this token to urn:test:shipping/,
    );
  });

  it('refuses forged, mistyped and non-delegating requests', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ client_id: 'integrator-demo', scope: 'orders:read', may_act: { sub: 'orders-api' } })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
      .setIssuer(running.issuer)
      .setSubject('integrator-demo')
      .setAudience(ORDERS)
      .setJti('forged-1')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
    expectRefusal(await delegate(running, 'orders-api', forged), 'invalid_request', /not an access token issued by Behalf/);
    expectRefusal(
      await delegate(running, 'orders-api', customerToken, { subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }),
      'invalid_request',
      /cannot be exchanged here/,
    );
    const storefront = await exchange(running, {
      subject_token: customerToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    });
    expectRefusal(storefront, 'unauthorized_client', /storefront-electronics has no delegation rules/);
  });

  it('refuses the tokens of an on-behalf session that has ended', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    const onBehalf = String((await exchange(running, onBehalfParams(oleg, actorToken))).body.access_token);
    const derived = await delegate(running, 'orders-api', onBehalf);
    expect(derived.status).toBe(200);
    const ended = await postForm(
      `${running.issuer}/on-behalf/sessions/end`,
      new URLSearchParams({ session_id: String(decodeJwt(onBehalf).obo_sid) }),
      { authorization: basic('storefront-electronics', 'storefront-demo-secret') },
    );
    expect(ended.status).toBe(200);
    expectRefusal(await delegate(running, 'orders-api', onBehalf), 'invalid_request', /on-behalf session of subject_token has ended/);
    expectRefusal(
      await delegate(running, 'payments-svc', String(derived.body.access_token), { resource: SHIPPING }),
      'invalid_request',
      /session of subject_token has ended/,
    );
  });
});

describe('revocation', () => {
  it('refuses an opaque subject once revoked, a mistyped one, and an opaque target its revocation could not reach', async () => {
    const ledger = await clientToken(running, 'ledger-client', LEDGER);
    expectRefusal(
      await delegate(running, 'ledger-api', ledger, { subject_token_type: JWT_TYPE }),
      'invalid_request',
      /opaque access token, not a JWT/,
    );
    expectRefusal(
      await delegate(running, 'ledger-api', ledger, { resource: VAULT }),
      'invalid_target',
      /must be revocable together with their subject_token/,
    );
    const payload = await verifiedToken(running, await delegate(running, 'ledger-api', ledger, { resource: PAYMENTS }), PAYMENTS);
    expect(payload).toMatchObject({ sub: 'ledger-client', client_id: 'ledger-api', act: { sub: 'ledger-api' } });

    expect((await revoke(running, 'ledger-client', ledger)).status).toBe(200);
    expectRefusal(await delegate(running, 'ledger-api', ledger, { resource: PAYMENTS }), 'invalid_request', /expired or been revoked/);
  });

  it.each(['revoking the subject token', 'ending the on-behalf session'])(
    'ends an opaque token derived within the client’s own grant when %s',
    async (how) => {
      const customer = await customerId(running, 'books', 'oleg@example.com');
      const bea = await staffId(running, 'books-support@example.com');
      const { actorToken } = await reauthenticate(running, { store: 'books', customer, email: 'books-support@example.com' });
      const subject = String((await exchange(running, onBehalfParams(customer, actorToken), 'books')).body.access_token);
      // The on-behalf subject is DPoP-bound (opaque: the helper cannot see it), so the request proves a key.
      const derived = await delegate(running, 'storefront-books', subject, { resource: VAULT }, { prove: true });
      expect(derived.status).toBe(200);
      const token = String(derived.body.access_token);
      const active = await introspect(running, 'storefront-books', token);
      expect(active.body).toMatchObject({
        active: true,
        sub: customer,
        client_id: 'storefront-books',
        act: { sub: 'storefront-books', act: { sub: bea } },
        obo_sid: expect.any(String),
      });

      if (how.startsWith('revoking')) {
        expect((await revoke(running, 'storefront-books', subject)).status).toBe(200);
      } else {
        const auth = { authorization: basic('storefront-books', 'storefront-demo-secret') };
        expect(
          (
            await postForm(
              `${running.issuer}/on-behalf/sessions/end`,
              new URLSearchParams({ session_id: String(active.body.obo_sid) }),
              auth,
            )
          ).status,
        ).toBe(200);
      }
      expect((await introspect(running, 'storefront-books', token)).body).toEqual({ active: false });
      expectRefusal(
        await delegate(running, 'storefront-books', subject, { resource: VAULT }),
        'invalid_request',
        /expired or been revoked/,
      );
    },
  );
});

function actorSubs(act: unknown): string[] {
  const subs: string[] = [];
  for (let current = act as { sub: string; act?: unknown } | undefined; current; current = current.act as typeof current)
    subs.push(current.sub);
  return subs;
}
