/**
 * RFC 9449 (DPoP) at the token exchange, over HTTP with openid-client's DPoP
 * handle and with proofs made by hand: a proof binds the issued token to its
 * key (`cnf.jkt`, `token_type: DPoP`, RFC 9449 §5, §6), a bad or replayed
 * proof is `invalid_dpop_proof`, a client whose metadata requires DPoP
 * (`dpop_bound_access_tokens`, `behalf_require_dpop_on_behalf`) is refused
 * without one, a bound subject token is never exchanged for a bearer token,
 * and a bound opaque token introspects with `cnf` and `token_type: DPoP`.
 * Every refusal is audited.
 */
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import type { BehalfClientMetadata } from '../../src/server/clients/client-repository.js';
import { DEMO_CLIENTS } from '../../src/server/seed/demo-data.js';
import { startBehalfWithClients, type RunningBehalf } from '../support/behalf.js';
import { booksStorefront, clientToken, createDelegationDatabase, introspect, LEDGER, ORDERS, PAYMENTS } from '../support/delegation.js';
import { dpopKey, dpopProof, type DpopKey } from '../support/dpop.js';
import { basic, postForm, tokenRequest } from '../support/oauth.js';
import { ACCESS_TOKEN, customerId, exchange, onBehalfParams, reauthenticate, TOKEN_EXCHANGE } from '../support/on-behalf.js';
import { auditMark, denialsSince, expectOAuthError } from '../support/refusals.js';

const STRICT_SERVICE = 'dpop-only-service';

function demo(clientId: string): BehalfClientMetadata {
  return DEMO_CLIENTS.find((c) => c.metadata.client_id === clientId)!.metadata;
}

let running: RunningBehalf;
let oleg: string;
/** One re-authentication for the electronics tests: its session continues (the agent's session limit is 3). */
let electronicsActor: string;

beforeAll(async () => {
  const database = await createDelegationDatabase();
  running = await startBehalfWithClients(
    [
      // Electronics binds every on-behalf token; books (opaque ledger tokens, see delegation.ts) leaves it to the request.
      { metadata: { ...demo('storefront-electronics'), behalf_require_dpop_on_behalf: true }, secret: 'storefront-demo-secret' },
      {
        metadata: { ...booksStorefront(), behalf_require_dpop_on_behalf: false },
        secret: 'storefront-demo-secret',
      },
      {
        metadata: {
          client_id: STRICT_SERVICE,
          client_kind: 'service',
          redirect_uris: [],
          response_types: [],
          grant_types: ['client_credentials', TOKEN_EXCHANGE],
          resource_servers: [LEDGER],
          allowed_resources: [PAYMENTS],
          delegation: [{ from: LEDGER, to: PAYMENTS }],
          dpop_bound_access_tokens: true,
        },
        secret: `${STRICT_SERVICE}-secret`,
      },
    ],
    database,
  );
  oleg = await customerId(running, 'electronics', 'oleg@example.com');
  electronicsActor = await actorToken();
});
afterAll(async () => {
  await running?.stop();
});

const tokenEndpoint = () => `${running.issuer}/token`;

function discovered(clientId: string, secret: string) {
  return client.discovery(new URL(running.issuer), clientId, secret, client.ClientSecretBasic(secret), {
    execute: [client.allowInsecureRequests],
  });
}

async function actorToken(store = 'electronics', customer = oleg): Promise<string> {
  return (await reauthenticate(running, { store, customer })).actorToken;
}

async function postToken(clientId: string, secret: string, params: Record<string, string>, proof?: string) {
  return postForm(tokenEndpoint(), new URLSearchParams({ grant_type: TOKEN_EXCHANGE, ...params }), {
    authorization: basic(clientId, secret),
    ...(proof ? { dpop: proof } : {}),
  });
}

describe('discovery', () => {
  it('advertises DPoP algorithms and the pushed authorization request endpoint (RFC 9449 §5.1, RFC 9126 §5)', async () => {
    const metadata = (await (await fetch(`${running.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256']));
    expect(metadata.pushed_authorization_request_endpoint).toBe(`${running.issuer}/request`);
  });
});

describe('login on behalf with a DPoP proof', () => {
  it('binds the on-behalf token to the proven key: cnf.jkt, token_type DPoP and the granted scope (openid-client)', async () => {
    const key = await dpopKey();
    const config = await discovered('storefront-electronics', 'storefront-demo-secret');
    const DPoP = client.getDPoPHandle(config, key.keyPair);
    const response = await client.genericGrantRequest(
      config,
      TOKEN_EXCHANGE,
      onBehalfParams(oleg, electronicsActor) as Record<string, string>,
      { DPoP },
    );
    expect(response.token_type).toBe('dpop');
    expect(response.issued_token_type).toBe(ACCESS_TOKEN);
    // RFC 6749 §5.1: the granted scope differs from the requested one (none), so it is named.
    expect(response.scope).toBe('orders:read orders:write');
    const claims = decodeJwt(response.access_token);
    expect(claims.cnf).toEqual({ jkt: key.jkt });
    expect(claims.act).toEqual({ sub: expect.any(String) });
    expect(claims.aud).toBe(ORDERS);
  });

  it('refuses the exchange without a proof when the client requires DPoP for on-behalf tokens, and audits it', async () => {
    const actor = electronicsActor;
    const mark = await auditMark(running);
    const response = await exchange(running, onBehalfParams(oleg, actor), 'electronics', 'storefront-demo-secret', { dpop: false });
    expectOAuthError(response, 400, 'invalid_request', /DPoP proof/);
    const [denial] = await denialsSince(running, mark);
    expect(denial?.details).toMatchObject({ error: 'invalid_request', reason: 'dpop_required_on_behalf' });
    // The same actor token with a proof is fine: the refusal opened nothing and spent nothing.
    const key = await dpopKey();
    const bound = await postToken(
      'storefront-electronics',
      'storefront-demo-secret',
      onBehalfParams(oleg, actor) as Record<string, string>,
      await dpopProof(key, { htu: tokenEndpoint() }),
    );
    expect(bound.status).toBe(200);
    expect(bound.body.token_type).toBe('DPoP');
  });

  it('still issues the banner ID token (token_type N_A) to a client that requires DPoP, when the request carries a proof', async () => {
    const key = await dpopKey();
    const response = await postToken(
      'storefront-electronics',
      'storefront-demo-secret',
      onBehalfParams(oleg, electronicsActor, { requested_token_type: 'urn:ietf:params:oauth:token-type:id_token' }) as Record<
        string,
        string
      >,
      await dpopProof(key, { htu: tokenEndpoint() }),
    );
    expect(response.status).toBe(200);
    expect(response.body.token_type).toBe('N_A');
  });

  it('gives a client without the requirement a Bearer token without a proof, and an opaque bound token that introspects with cnf', async () => {
    const books = await customerId(running, 'books', 'oleg@example.com');
    const actor = await actorToken('books', books);
    const plain = await exchange(running, onBehalfParams(books, actor), 'books', 'storefront-demo-secret', { dpop: false });
    expect(plain.status).toBe(200);
    expect(plain.body.token_type).toBe('Bearer');

    const key = await dpopKey();
    const bound = await postToken(
      'storefront-books',
      'storefront-demo-secret',
      onBehalfParams(books, actor) as Record<string, string>,
      await dpopProof(key, { htu: tokenEndpoint() }),
    );
    expect(bound.status).toBe(200);
    expect(bound.body.token_type).toBe('DPoP');
    // books' on-behalf tokens are for the opaque ledger: the binding lives in Behalf's store.
    const seen = await introspect(running, 'storefront-books', String(bound.body.access_token));
    expect(seen.body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.jkt }, aud: LEDGER });
    const unbound = await introspect(running, 'storefront-books', String(plain.body.access_token));
    expect(unbound.body).toMatchObject({ active: true, token_type: 'Bearer' });
    expect(unbound.body.cnf).toBeUndefined();
  });
});

describe('invalid proofs (RFC 9449 §4.3)', () => {
  let key: DpopKey;
  let actor: string;
  beforeAll(async () => {
    key = await dpopKey();
    actor = electronicsActor;
  });
  const send = (proof: string) =>
    postToken('storefront-electronics', 'storefront-demo-secret', onBehalfParams(oleg, actor) as Record<string, string>, proof);

  it('refuses a proof for another URI, another method, or from too long ago, with invalid_dpop_proof', async () => {
    const mark = await auditMark(running);
    expectOAuthError(await send(await dpopProof(key, { htu: `${running.issuer}/token/introspection` })), 400, 'invalid_dpop_proof', /htu/);
    expectOAuthError(await send(await dpopProof(key, { htu: tokenEndpoint(), htm: 'GET' })), 400, 'invalid_dpop_proof', /htm/);
    const stale = Math.floor(Date.now() / 1000) - 3600;
    expectOAuthError(await send(await dpopProof(key, { htu: tokenEndpoint(), iat: stale })), 400, 'invalid_dpop_proof', /iat/);
    expectOAuthError(await send('not.a.proof'), 400, 'invalid_dpop_proof', /DPoP/);
    const denials = await denialsSince(running, mark);
    expect(denials).toHaveLength(4);
    expect(denials.every((event) => (event.details as { reason?: string }).reason === 'dpop_proof_refused')).toBe(true);
  });

  it('refuses a replayed proof: each jti is good for one request', async () => {
    const proof = await dpopProof(key, { htu: tokenEndpoint() });
    expect((await send(proof)).status).toBe(200);
    expectOAuthError(await send(proof), 400, 'invalid_dpop_proof', /[Rr]eplay/);
  });
});

describe('delegation of DPoP-bound tokens', () => {
  /** The integrator's client-credentials JWT for the orders API, bound to its own key (oidc-provider's grant). */
  async function boundIntegratorToken(key: DpopKey): Promise<string> {
    const config = await discovered('integrator-demo', 'integrator-demo-secret');
    const response = await client.clientCredentialsGrant(
      config,
      { resource: ORDERS, scope: 'orders:read' },
      { DPoP: client.getDPoPHandle(config, key.keyPair) },
    );
    expect(response.token_type).toBe('dpop');
    return response.access_token;
  }
  const delegation = (subject: string) => ({ subject_token: subject, subject_token_type: ACCESS_TOKEN, resource: PAYMENTS });

  it('never turns a bound subject token into a bearer token, and binds the result to the requesting client’s own key', async () => {
    const integratorKey = await dpopKey();
    const subject = await boundIntegratorToken(integratorKey);
    const mark = await auditMark(running);
    const bearer = await postToken('orders-api', 'orders-api-demo-secret', delegation(subject));
    expectOAuthError(bearer, 400, 'invalid_request', /subject_token is DPoP-bound/);
    expect((await denialsSince(running, mark, 'delegation.denied'))[0]?.details).toMatchObject({ reason: 'bound_subject_needs_proof' });

    // The audience (orders-api) presents the subject token with a proof of its own key, not the integrator's.
    const ordersKey = await dpopKey();
    const bound = await postToken(
      'orders-api',
      'orders-api-demo-secret',
      delegation(subject),
      await dpopProof(ordersKey, { htu: tokenEndpoint() }),
    );
    expect(bound.status).toBe(200);
    expect(bound.body.token_type).toBe('DPoP');
    expect(decodeJwt(String(bound.body.access_token)).cnf).toEqual({ jkt: ordersKey.jkt });
  });

  it('refuses every token request without a proof from a client registered with dpop_bound_access_tokens (RFC 9449 §5.2)', async () => {
    // An opaque ledger token (ledger-client's, Bearer): the client's own rule asks for the proof here.
    const subject = await clientToken(running, 'ledger-client', LEDGER);
    const refused = await postToken(STRICT_SERVICE, `${STRICT_SERVICE}-secret`, delegation(subject));
    expectOAuthError(refused, 400, 'invalid_request', /dpop_bound_access_tokens/);
    // oidc-provider's own grants hold it to the same rule.
    const own = await tokenRequest(running.issuer, STRICT_SERVICE, `${STRICT_SERVICE}-secret`, {
      grant_type: 'client_credentials',
      resource: PAYMENTS,
    });
    expect(own.status).toBe(400);
    const key = await dpopKey();
    const ok = await postToken(
      STRICT_SERVICE,
      `${STRICT_SERVICE}-secret`,
      delegation(subject),
      await dpopProof(key, { htu: tokenEndpoint() }),
    );
    expect(ok.body).toMatchObject({ token_type: 'DPoP' });
    expect(decodeJwt(String(ok.body.access_token)).cnf).toEqual({ jkt: key.jkt });
  });
});
