/**
 * A test policy for delegation beyond the demo's: more resource servers
 * (opaque ones, a short-lived one) and more clients that operate them and
 * delegate between them, registered on a fresh database before Behalf starts
 * on it (the provider validates every client at start). Plus small helpers
 * for client-credentials tokens, exchanges, introspection and revocation.
 */
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { registerClient } from '../../src/server/clients/register.js';
import type { BehalfClientMetadata } from '../../src/server/clients/client-repository.js';
import { DEMO_CLIENTS } from '../../src/server/seed/demo-data.js';
import { createServices } from '../../src/server/system.js';
import { testConfig, type RunningBehalf } from './behalf.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { basic, postForm, tokenRequest, type JsonResponse } from './oauth.js';
import { TOKEN_EXCHANGE } from './on-behalf.js';

export const ORDERS = 'http://localhost:4003';
export const PAYMENTS = 'urn:behalf:demo:payments';
/** JWT, and its tokens live 45 s: a short-lived subject. */
export const SHIPPING = 'urn:test:shipping';
/** Opaque token resource servers. */
export const LEDGER = 'urn:test:ledger';
export const VAULT = 'urn:test:vault';
export const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

const ORDER_SCOPES = ['orders:read', 'orders:write'];

const service = (clientId: string, metadata: Partial<BehalfClientMetadata>): BehalfClientMetadata => ({
  client_id: clientId,
  client_kind: 'service',
  redirect_uris: [],
  response_types: [],
  grant_types: ['client_credentials', TOKEN_EXCHANGE],
  ...metadata,
});

const TEST_CLIENTS: BehalfClientMetadata[] = [
  // Operates the orders API too, but is not the party integrator tokens name in may_act.
  service('orders-replica', { resource_servers: [ORDERS], allowed_resources: [PAYMENTS], delegation: [{ from: ORDERS, to: PAYMENTS }] }),
  service('payments-svc', {
    resource_servers: [PAYMENTS],
    allowed_resources: [SHIPPING, ORDERS],
    delegation: [
      { from: PAYMENTS, to: SHIPPING },
      { from: PAYMENTS, to: ORDERS },
      { from: ORDERS, to: SHIPPING, scope: 'orders:read' },
    ],
  }),
  service('shipping-svc', { resource_servers: [SHIPPING], allowed_resources: [PAYMENTS], delegation: [{ from: SHIPPING, to: PAYMENTS }] }),
  service('payments-replica', {
    resource_servers: [PAYMENTS],
    allowed_resources: [SHIPPING],
    delegation: [{ from: PAYMENTS, to: SHIPPING }],
  }),
  // Its tokens for the orders API name payments-svc (which does not operate it) as the party that may act.
  service('partner-app', { grant_types: ['client_credentials'], allowed_resources: [ORDERS], may_act: 'payments-svc' }),
  service('ledger-client', { grant_types: ['client_credentials'], allowed_resources: [LEDGER] }),
  service('ledger-api', {
    resource_servers: [LEDGER],
    allowed_resources: [PAYMENTS, VAULT],
    delegation: [
      { from: LEDGER, to: PAYMENTS },
      { from: LEDGER, to: VAULT },
    ],
  }),
];

export const secretOf = (clientId: string) =>
  clientId.startsWith('storefront-')
    ? 'storefront-demo-secret'
    : (DEMO_CLIENTS.find((c) => c.metadata.client_id === clientId)?.secret ?? `${clientId}-secret`);

/** The books storefront, changed to take on-behalf tokens for the opaque ledger and delegate them to the opaque vault. */
export function booksStorefront(): BehalfClientMetadata {
  const demo = DEMO_CLIENTS.find((c) => c.metadata.client_id === 'storefront-books')!.metadata;
  return {
    ...demo,
    allowed_resources: [ORDERS, LEDGER, VAULT],
    resource_servers: [LEDGER],
    on_behalf: { resource: LEDGER, scope: 'orders:read orders:write', token_ttl: 600 },
    delegation: [{ from: LEDGER, to: VAULT }],
  };
}

export async function createDelegationDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase();
  const services = await createServices(testConfig(database.url, 'http://127.0.0.1'));
  try {
    await services.resourceServers.upsert({
      identifier: SHIPPING,
      name: 'Shipping (test)',
      alias: 'shipping',
      tokenFormat: 'jwt',
      scopes: ORDER_SCOPES,
      accessTokenTtl: 45,
    });
    await services.resourceServers.upsert({
      identifier: LEDGER,
      name: 'Ledger (test)',
      alias: 'ledger',
      tokenFormat: 'opaque',
      scopes: ORDER_SCOPES,
    });
    await services.resourceServers.upsert({
      identifier: VAULT,
      name: 'Vault (test)',
      alias: 'vault',
      tokenFormat: 'opaque',
      scopes: ORDER_SCOPES,
    });
    for (const metadata of TEST_CLIENTS) await registerClient(services, metadata, secretOf(metadata.client_id));
    await registerClient(services, booksStorefront(), 'storefront-demo-secret');
  } finally {
    await services.database.close();
  }
  return database;
}

/** A client-credentials access token of `clientId`. */
export async function clientToken(running: RunningBehalf, clientId: string, resource: string, scope = 'orders:read'): Promise<string> {
  const response = await tokenRequest(running.issuer, clientId, secretOf(clientId), { grant_type: 'client_credentials', resource, scope });
  if (response.status !== 200) throw new Error(`client credentials for ${clientId} failed: ${response.text}`);
  return String(response.body.access_token);
}

/** A delegation exchange by `clientId`: subject_token (type access_token unless given) and anything else. */
export function delegate(
  running: RunningBehalf,
  clientId: string,
  subjectToken: string,
  params: Record<string, string | string[]> = {},
): Promise<JsonResponse> {
  const body: Record<string, string> = {
    grant_type: TOKEN_EXCHANGE,
    subject_token: subjectToken,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
  };
  const repeated: [string, string][] = [];
  for (const [key, value] of Object.entries(params)) {
    if (Array.isArray(value)) for (const item of value) repeated.push([key, item]);
    else body[key] = value;
  }
  return tokenRequest(running.issuer, clientId, secretOf(clientId), body, repeated);
}

/** The issued token of a successful exchange, verified as a resource server for `audience` would. */
export async function verifiedToken(
  running: RunningBehalf,
  response: JsonResponse,
  audience: string,
): Promise<JWTPayload & { act?: unknown }> {
  if (response.status !== 200) throw new Error(`exchange failed: ${response.text}`);
  const jwks = createRemoteJWKSet(new URL(`${running.issuer}/jwks`));
  const { payload } = await jwtVerify(String(response.body.access_token), jwks, {
    issuer: running.issuer,
    audience,
    typ: 'at+jwt',
    algorithms: ['ES256'],
  });
  return payload;
}

export function introspect(running: RunningBehalf, clientId: string, token: string): Promise<JsonResponse> {
  return postForm(`${running.issuer}/token/introspection`, new URLSearchParams({ token }), {
    authorization: basic(clientId, secretOf(clientId)),
  });
}

export function revoke(running: RunningBehalf, clientId: string, token: string): Promise<JsonResponse> {
  return postForm(`${running.issuer}/token/revocation`, new URLSearchParams({ token }), {
    authorization: basic(clientId, secretOf(clientId)),
  });
}
