/**
 * Login on behalf, the refusal matrix: everything the re-authentication
 * screen and the RFC 8693 exchange must refuse, each with its exact error,
 * a description that says why, and an `on_behalf.denied` record; fail-closed
 * issuance when the audit trail cannot be written; and opaque resource
 * servers, whose on-behalf tokens show the same `act` in introspection and
 * die with the session.
 */
import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { createServices } from '../../src/server/system.js';
import { registerClient } from '../../src/server/clients/register.js';
import { DEMO_CLIENTS } from '../../src/server/seed/demo-data.js';
import { LOGIN_ON_BEHALF } from '../../src/token-exchange/on-behalf-policy.js';
import { startBehalf, testConfig, type RunningBehalf } from '../support/behalf.js';
import { HttpBrowser, type Page } from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { basic, codeFlowTokens, postForm, tokenRequest, type JsonResponse, customerTokens } from '../support/oauth.js';
import {
  ACCESS_TOKEN,
  ACCOUNT_ID,
  customerId,
  exchange,
  onBehalfParams,
  openReauth,
  reauthenticate,
  staffId,
  TOKEN_EXCHANGE,
} from '../support/on-behalf.js';
import { eventually } from '../support/poll.js';
import {
  auditMark,
  behalfSigningKey,
  denialsSince,
  expectOAuthError,
  forgeAccessToken,
  signAccessToken,
  unsignedAccessToken,
  type DenialType,
} from '../support/refusals.js';

const ORDERS_API = 'http://localhost:4003';
/** A resource server configured for opaque tokens (introspected, not verified locally). */
const OPAQUE_API = 'http://localhost:4010';
/** A resource server none of whose scopes the storefront's on-behalf policy allows. */
const INVENTORY_API = 'http://localhost:4011';
const OPAQUE_API_CLIENT = { id: 'opaque-orders-api', secret: 'opaque-orders-api-secret' };
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const REFRESH_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:refresh_token';
const SUPPORT = { email: 'support@example.com', password: 'Support-Demo-2026' };

let database: TestDatabase;
let running: RunningBehalf;
let electronics: string;
let oleg: string;
let olegBooks: string;
let anna: string;
let sam: string;
let bea: string;
let vic: string;
let ada: string;

beforeAll(async () => {
  // Clients are validated when the provider starts: register the opaque resource server, its
  // operator and the storefront's wider allowed_resources before Behalf starts on this database.
  database = await createTestDatabase();
  const services = await createServices(testConfig(database.url, 'http://127.0.0.1'));
  try {
    await services.resourceServers.upsert({
      identifier: OPAQUE_API,
      name: 'Orders API (opaque tokens)',
      tokenFormat: 'opaque',
      scopes: ['orders:read'],
      alias: 'opaque-orders',
    });
    await services.resourceServers.upsert({
      identifier: INVENTORY_API,
      name: 'Inventory API',
      tokenFormat: 'jwt',
      scopes: ['inventory:read'],
    });
    const electronicsClient = DEMO_CLIENTS.find((demo) => demo.metadata.client_id === 'storefront-electronics')!;
    await registerClient(
      services,
      { ...electronicsClient.metadata, allowed_resources: [ORDERS_API, OPAQUE_API, INVENTORY_API] },
      electronicsClient.secret,
    );
    await registerClient(
      services,
      {
        client_id: OPAQUE_API_CLIENT.id,
        client_name: 'Orders API (opaque)',
        client_kind: 'service',
        redirect_uris: [],
        response_types: [],
        grant_types: ['client_credentials'],
        resource_servers: [OPAQUE_API],
      },
      OPAQUE_API_CLIENT.secret,
    );
  } finally {
    await services.database.close();
  }
  // No expiry sweep during the run: a test that moves a session's end into the past sees that session as it left it.
  running = await startBehalf({ database, overrides: { onBehalf: { expirySweepSeconds: 3600 } } });
  electronics = (await running.behalf.stores.findBySlug('electronics'))!.id;
  oleg = await customerId(running, 'electronics', 'oleg@example.com');
  olegBooks = await customerId(running, 'books', 'oleg@example.com');
  anna = await customerId(running, 'electronics', 'anna@example.com');
  sam = await staffId(running, 'support@example.com');
  bea = await staffId(running, 'books-support@example.com');
  vic = await staffId(running, 'viewer@example.com');
  ada = await staffId(running, 'admin@example.com');
});
afterAll(async () => {
  await running?.stop();
  await database?.drop();
});
// Every test starts with no open session, so the per-agent limit (3) is only met where meant.
afterEach(async () => {
  for (const agent of [sam, bea]) if (agent) await running.behalf.onBehalf.endAgentSessions(agent, 'system', 'ended_by_admin');
});

async function reauthRows(agentId: string): Promise<number> {
  const [row] = (await running.behalf.dataSource.query('SELECT count(*)::int AS n FROM on_behalf_reauth WHERE agent_account_id = $1', [
    agentId,
  ])) as { n: number }[];
  return row!.n;
}

async function sessionRows(agentId: string): Promise<number> {
  const [row] = (await running.behalf.dataSource.query('SELECT count(*)::int AS n FROM on_behalf_session WHERE agent_account_id = $1', [
    agentId,
  ])) as { n: number }[];
  return row!.n;
}

async function activeSessions(agentId: string): Promise<number> {
  return (await running.behalf.onBehalf.list({ agentId, active: true })).length;
}

interface Denial {
  reason: string;
  type?: DenialType;
  /** Expected actor: an account id, or `client:<id>` when the agent was not learned. */
  actor?: string;
  subject?: string | null;
  clientId?: string;
  stage?: string;
}

/** Exactly one denial since `mark`, with these facts; the description recorded is the one the caller saw. */
async function expectDenial(mark: number, denial: Denial, description?: string): Promise<void> {
  const events = await denialsSince(running, mark, denial.type);
  expect(events).toHaveLength(1);
  const [event] = events;
  expect(event!.details.reason).toBe(denial.reason);
  expect(event!.clientId).toBe(denial.clientId ?? 'storefront-electronics');
  if (denial.actor !== undefined) expect(event!.actor).toBe(denial.actor);
  if (denial.subject !== undefined) expect(event!.subject).toBe(denial.subject);
  if (denial.stage) expect(event!.details.stage).toBe(denial.stage);
  if (description !== undefined) expect(event!.details.description).toBe(description);
}

/** Sends an exchange that must be refused: exact status and error, a helpful description, and its audit record. */
async function refused(
  send: () => Promise<JsonResponse>,
  error: string,
  description: RegExp,
  denial: Denial,
  status = 400,
): Promise<JsonResponse> {
  const mark = await auditMark(running);
  const response = await send();
  expectOAuthError(response, status, error, description);
  await expectDenial(mark, denial, String(response.body.error_description));
  expect((await denialsSince(running, mark, denial.type))[0]!.details.error).toBe(error);
  const other = await denialsSince(running, mark, denial.type === 'delegation.denied' ? 'on_behalf.denied' : 'delegation.denied');
  expect(other).toHaveLength(0);
  return response;
}

async function openSession(
  customer: string,
  actorToken: string,
  extra: Record<string, string | string[]> = {},
): Promise<{ response: JsonResponse; sid: string }> {
  const response = await exchange(running, onBehalfParams(customer, actorToken, extra));
  expect(response.status).toBe(200);
  const sid = String(decodeJwt(String(response.body.access_token)).obo_sid);
  return { response, sid };
}

function endSession(sid: string, store = 'electronics') {
  return postForm(`${running.issuer}/on-behalf/sessions/end`, new URLSearchParams({ session_id: sid }), {
    authorization: basic(`storefront-${store}`, 'storefront-demo-secret'),
  });
}

async function introspect(token: string, clientId: string, secret: string): Promise<JsonResponse> {
  return postForm(`${running.issuer}/token/introspection`, new URLSearchParams({ token }), { authorization: basic(clientId, secret) });
}

/** An authorization request through a storefront (or the portal), with whatever parameters the test wants. */
async function authorize(
  params: Record<string, string>,
  clientId = 'storefront-electronics',
  secret = 'storefront-demo-secret',
): Promise<Page> {
  const config = await client.discovery(new URL(running.issuer), clientId, secret, undefined, { execute: [client.allowInsecureRequests] });
  const url = client.buildAuthorizationUrl(config, {
    scope: 'openid',
    state: 'state-1',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    ...params,
  });
  return new HttpBrowser(running.issuer).follow(url.toString());
}

function callbackParams(page: Page): URLSearchParams {
  return new URL(page.url).searchParams;
}

describe('the re-authentication screen refuses', () => {
  async function submitAs(customer: string, email: string, fields: Record<string, string> = {}, store = 'electronics') {
    const { page, browser } = await openReauth(running, { customer, store });
    expect(page.status).toBe(200);
    return browser.submit(page, '/reauth', { email, password: 'Support-Demo-2026', reason: 'Customer asked for help', ...fields });
  }

  it('staff without security:loginOnBehalf (Vic): the form again with a clear message, audited, nothing recorded as a re-authentication', async () => {
    const mark = await auditMark(running);
    const page = await submitAs(oleg, 'viewer@example.com');
    expect(page.status).toBe(403);
    expect(page.html).toContain('You do not have permission to log in on behalf of customers of this store.');
    expect(page.html).toContain('action="/interaction/');
    await expectDenial(mark, { reason: 'no_permission', actor: vic, subject: oleg, stage: 'reauthentication' });
    expect(await reauthRows(vic)).toBe(0);
  });

  it('staff holding the permission for another store only (Bea → an electronics customer)', async () => {
    const mark = await auditMark(running);
    const page = await submitAs(anna, 'books-support@example.com');
    expect(page.status).toBe(403);
    expect(page.html).toContain('You do not have permission to log in on behalf of customers of this store.');
    await expectDenial(mark, { reason: 'no_permission', actor: bea, subject: anna, stage: 'reauthentication' });
    expect(await reauthRows(bea)).toBe(0);
    // Her own store works: the refusal is about the store, not about Bea.
    const { actorToken } = await reauthenticate(running, { store: 'books', customer: olegBooks, email: 'books-support@example.com' });
    expect((await exchange(running, onBehalfParams(olegBooks, actorToken), 'books')).status).toBe(200);
  });

  it('a missing (or blank) reason: the form again, the password kept as confirmed, focus on the reason; the denial names the agent', async () => {
    const before = await reauthRows(sam);
    const mark = await auditMark(running);
    const { page: form, browser } = await openReauth(running, { customer: oleg });
    const page = await browser.submit(form, '/reauth', {
      email: SUPPORT.email,
      password: 'Support-Demo-2026',
      reason: '   ',
      ticket: 'SUP-7',
    });
    expect(page.status).toBe(400);
    expect(page.html).toContain('Enter the reason for logging in on behalf of this customer.');
    expect(page.html).toContain('Confirming as <strong>Sam Support</strong> (support@example.com)');
    expect(page.html).toContain('Password confirmed. Add the reason to continue.');
    expect(page.html).not.toContain('name="password"');
    expect(page.html).toMatch(/<input id="reason"[^>]* autofocus aria-invalid="true" aria-describedby="form-error">/);
    expect(page.html).toContain('value="SUP-7"');
    await expectDenial(mark, { reason: 'missing_reason', actor: sam, subject: oleg, stage: 'reauthentication' });
    expect(await reauthRows(sam)).toBe(before);
    // The reason alone completes it: the password is not asked again.
    const done = await browser.submit(page, '/reauth', { reason: 'Customer asked for help' });
    expect(done.url).toContain('/callback');
    expect(await reauthRows(sam)).toBe(before + 1);
  });

  it('a customer’s own credentials: only staff can confirm a login on behalf', async () => {
    const before = await reauthRows(oleg);
    const { page, browser } = await openReauth(running, { customer: anna });
    const again = await browser.submit(page, '/reauth', {
      email: 'oleg@example.com',
      password: 'Customer-Demo-2026',
      reason: 'Trying my luck',
    });
    expect(again.status).toBe(200);
    expect(again.html).toContain('Invalid email or password.');
    expect(again.html).toContain('name="password"');
    expect(await reauthRows(oleg)).toBe(before);
  });

  it.each([
    ['an admin', () => ada],
    ['a support agent', () => bea],
  ])('%s as the target, before anyone signs in', async (_label, target) => {
    const mark = await auditMark(running);
    const { page } = await openReauth(running, { customer: target() });
    expect(page.status).toBe(403);
    expect(page.html).toContain('Login on behalf refused');
    expect(page.html).toContain('Login on behalf is for customers: staff and admin accounts cannot be acted for.');
    expect(page.html).not.toContain('name="password"');
    await expectDenial(mark, {
      reason: 'privileged_target',
      subject: target(),
      actor: 'client:storefront-electronics',
      stage: 'reauthentication',
    });
  });

  it('a customer of another store (Oleg’s books account through the electronics storefront)', async () => {
    const mark = await auditMark(running);
    const { page } = await openReauth(running, { customer: olegBooks });
    expect(page.status).toBe(403);
    expect(page.html).toContain('This customer does not belong to this store.');
    expect(page.html).not.toContain('name="password"');
    await expectDenial(mark, { reason: 'target_other_store', subject: olegBooks, stage: 'reauthentication' });
  });

  it('an account id that does not exist', async () => {
    const mark = await auditMark(running);
    const { page } = await openReauth(running, { customer: randomUUID() });
    expect(page.status).toBe(403);
    expect(page.html).toContain('This customer account does not exist.');
    await expectDenial(mark, { reason: 'unknown_target', subject: null, stage: 'reauthentication' });
  });

  it('a disabled customer', async () => {
    await running.behalf.accounts.setStatus(anna, 'disabled');
    try {
      const mark = await auditMark(running);
      const { page } = await openReauth(running, { customer: anna });
      expect(page.status).toBe(403);
      expect(page.html).toContain('This customer account is disabled.');
      await expectDenial(mark, { reason: 'target_inactive', subject: anna, stage: 'reauthentication' });
    } finally {
      await running.behalf.accounts.setStatus(anna, 'active');
    }
  });

  it('a client without a login-on-behalf policy (the portal)', async () => {
    const mark = await auditMark(running);
    const page = await authorize(
      { redirect_uri: 'http://localhost:4002/callback', prompt: 'login', on_behalf_of: oleg },
      'portal',
      'portal-demo-secret',
    );
    expect(page.status).toBe(403);
    expect(page.html).toContain('This application is not allowed to log in on behalf of customers.');
    await expectDenial(mark, { reason: 'client_not_allowed', clientId: 'portal', stage: 'reauthentication' });
  });

  it('Cancel: back to the storefront with error=access_denied, nothing recorded as a re-authentication', async () => {
    const before = await reauthRows(sam);
    const { page, browser, state } = await openReauth(running, { customer: oleg });
    const back = await browser.submit(page, '/abort', {});
    expect(back.url.startsWith('http://localhost:4001/electronics/callback?')).toBe(true);
    expect(callbackParams(back).get('error')).toBe('access_denied');
    expect(callbackParams(back).get('state')).toBe(state);
    expect(await reauthRows(sam)).toBe(before);
  });

  it('the refusal page’s way back also returns error=access_denied to the storefront', async () => {
    const { page, browser } = await openReauth(running, { customer: ada });
    const back = await browser.submit(page, '/abort', {});
    expect(back.url.startsWith('http://localhost:4001/electronics/callback?')).toBe(true);
    expect(callbackParams(back).get('error')).toBe('access_denied');
  });

  it('on_behalf_of without prompt=login: an error for the storefront, no screen', async () => {
    for (const prompt of [undefined, 'consent']) {
      const page = await authorize({
        redirect_uri: 'http://localhost:4001/electronics/callback',
        on_behalf_of: oleg,
        ...(prompt ? { prompt } : {}),
      });
      expect(page.url.startsWith('http://localhost:4001/electronics/callback?')).toBe(true);
      expect(callbackParams(page).get('error')).toBe('invalid_request');
      expect(callbackParams(page).get('error_description')).toBe('login on behalf requires prompt=login');
      expect(callbackParams(page).get('state')).toBe('state-1');
    }
  });

  it('a malformed on_behalf_of: an error for the storefront, no screen', async () => {
    for (const value of ['not-a-uuid', 'oleg@example.com', `${oleg}'--`]) {
      // Sent in the browser URL: the value is refused before the demand for a pushed request.
      const { page } = await openReauth(running, { customer: value, plain: true });
      expect(page.url.startsWith('http://localhost:4001/electronics/callback?')).toBe(true);
      expect(callbackParams(page).get('error')).toBe('invalid_request');
      expect(callbackParams(page).get('error_description')).toBe('on_behalf_of must be a customer account id');
    }
  });
});

describe('the exchange refuses', () => {
  it('an actor token from an ordinary sign-in: an agent’s portal token, or the customer’s own storefront token', async () => {
    const portal = await codeFlowTokens(
      running.issuer,
      'portal',
      'portal-demo-secret',
      'http://localhost:4002/callback',
      SUPPORT.email,
      SUPPORT.password,
    );
    await refused(
      () => exchange(running, onBehalfParams(oleg, portal.access_token)),
      'invalid_request',
      /^actor_token was issued to another client \(portal\); re-authenticate through storefront-electronics$/,
      { reason: 'actor_other_client', actor: sam },
    );

    const own = await customerTokens(running.issuer);
    await refused(
      () => exchange(running, onBehalfParams(anna, own.access_token)),
      'invalid_request',
      /does not come from a login-on-behalf re-authentication \(prompt=login with on_behalf_of\)/,
      { reason: 'not_reauthenticated', actor: oleg },
    );
    expect(await sessionRows(oleg)).toBe(0);
  });

  it('a re-authentication made for another customer', async () => {
    const { actorToken } = await reauthenticate(running, { customer: anna });
    await refused(
      () => exchange(running, onBehalfParams(oleg, actorToken)),
      'invalid_request',
      /re-authentication named another customer than subject_token/,
      { reason: 'reauth_other_target', actor: sam, subject: oleg },
    );
    // The same token still serves the customer it was made for.
    expect((await exchange(running, onBehalfParams(anna, actorToken))).status).toBe(200);
  });

  it('staff or an admin as the subject, and the agent themselves', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    for (const target of [ada, bea, vic]) {
      await refused(
        () => exchange(running, onBehalfParams(target, actorToken)),
        'invalid_request',
        /^staff and admin accounts cannot be acted for: login on behalf is for customers$/,
        { reason: 'privileged_target', actor: sam, subject: target },
      );
    }
    await refused(() => exchange(running, onBehalfParams(sam, actorToken)), 'invalid_request', /cannot log in on behalf of themselves/, {
      reason: 'self_target',
      actor: sam,
      subject: sam,
    });
    expect(await activeSessions(sam)).toBe(0);
  });

  it('a customer disabled after the re-authentication, also in the middle of a session', async () => {
    const first = await reauthenticate(running, { customer: anna });
    await running.behalf.accounts.setStatus(anna, 'disabled');
    try {
      await refused(() => exchange(running, onBehalfParams(anna, first.actorToken)), 'invalid_request', /customer account is not active/, {
        reason: 'target_inactive',
        actor: sam,
        subject: anna,
      });
      expect(await activeSessions(sam)).toBe(0);
    } finally {
      await running.behalf.accounts.setStatus(anna, 'active');
    }
    const second = await reauthenticate(running, { customer: anna });
    const { sid } = await openSession(anna, second.actorToken);
    await running.behalf.accounts.setStatus(anna, 'disabled');
    try {
      const mark = await auditMark(running);
      const response = await exchange(running, onBehalfParams(anna, second.actorToken));
      expectOAuthError(response, 400, 'invalid_request', /not active/);
      const [denial] = await denialsSince(running, mark);
      expect(denial).toMatchObject({ actor: sam, subject: anna, sessionId: sid, details: { reason: 'target_inactive' } });
    } finally {
      await running.behalf.accounts.setStatus(anna, 'active');
    }
  });

  it('an account id that does not exist, and a subject that is not an account id', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    await refused(() => exchange(running, onBehalfParams(randomUUID(), actorToken)), 'invalid_request', /subject_token names no account/, {
      reason: 'unknown_target',
      actor: sam,
      subject: null,
    });
    await refused(
      () => exchange(running, onBehalfParams('oleg@example.com', actorToken)),
      'invalid_request',
      /subject_token must be a customer account id \(a UUID\)/,
      { reason: 'malformed_subject', subject: null },
    );
  });

  it('an actor token issued to another client (re-authenticated at the books storefront, exchanged at electronics)', async () => {
    const { actorToken } = await reauthenticate(running, { store: 'books', customer: olegBooks });
    await refused(
      () => exchange(running, onBehalfParams(oleg, actorToken)),
      'invalid_request',
      /^actor_token was issued to another client \(storefront-books\); re-authenticate through storefront-electronics$/,
      { reason: 'actor_other_client', actor: sam },
    );
    await refused(() => exchange(running, onBehalfParams(olegBooks, actorToken)), 'invalid_request', /another client/, {
      reason: 'actor_other_client',
      actor: sam,
    });
    expect((await exchange(running, onBehalfParams(olegBooks, actorToken), 'books')).status).toBe(200);
  });

  it('expired, forged, other-issuer, unsigned and garbage actor tokens', async () => {
    const key = await behalfSigningKey(running);
    const claims = { issuer: running.issuer, sub: sam, clientId: 'storefront-electronics' };
    const bad: [string, string][] = [
      ['expired (signed by Behalf)', await signAccessToken(key, { ...claims, expiresIn: -120 })],
      ['another issuer (signed by Behalf’s key)', await signAccessToken(key, { ...claims, issuer: 'https://issuer.example' })],
      ['forged (another key, Behalf’s kid)', await forgeAccessToken(key.kid, claims)],
      ['alg none', unsignedAccessToken(claims)],
      ['garbage', 'garbage'],
      ['garbage JWT shape', 'eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl'],
      ['an unknown opaque id', 'Vt3CkRj7bQy4n6P8sLm2xZa9WdFg5Hh1Jk0Ll3Oo7Pq'],
      ['NUL and control bytes', 'abc\u0000\u0001def'],
    ];
    for (const [label, token] of bad) {
      const response = await refused(
        () => exchange(running, onBehalfParams(oleg, token)),
        'invalid_request',
        /^actor_token is invalid, expired or revoked$/,
        { reason: 'invalid_actor_token', actor: 'client:storefront-electronics' },
      );
      expect([label, response.status]).toEqual([label, 400]);
    }
  });

  it('a genuine JWT access token as actor: Behalf-signed, an on-behalf token itself, a client’s own token', async () => {
    const key = await behalfSigningKey(running);
    const minted = await signAccessToken(key, { issuer: running.issuer, sub: sam, clientId: 'storefront-electronics' });
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    const { response } = await openSession(oleg, actorToken);
    const onBehalfJwt = String(response.body.access_token);
    const integrator = await tokenRequest(running.issuer, 'integrator-demo', 'integrator-demo-secret', {
      grant_type: 'client_credentials',
      resource: ORDERS_API,
      scope: 'orders:read',
    });
    for (const token of [minted, onBehalfJwt, String(integrator.body.access_token)]) {
      await refused(
        () => exchange(running, onBehalfParams(anna, token)),
        'invalid_request',
        /must be the agent’s access token from the login-on-behalf re-authentication/,
        { reason: 'actor_not_reauthenticated' },
      );
    }
  });

  it('wrong or missing token types', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    await refused(
      () => exchange(running, onBehalfParams(oleg, actorToken, { actor_token_type: JWT_TYPE })),
      'invalid_request',
      /^actor_token_type must be urn:ietf:params:oauth:token-type:access_token$/,
      { reason: 'wrong_actor_token_type' },
    );
    await refused(
      () => exchange(running, onBehalfParams(oleg, actorToken, { actor_token_type: 'urn:example:unknown' })),
      'invalid_request',
      /actor_token_type urn:example:unknown is not supported/,
      { reason: 'unsupported_token_type' },
    );
    await refused(
      () => exchange(running, { subject_token: oleg, subject_token_type: ACCOUNT_ID, actor_token: actorToken }),
      'invalid_request',
      /^actor_token_type is required with actor_token$/,
      { reason: 'missing_actor_token_type' },
    );
    await refused(
      () => exchange(running, { subject_token: oleg, subject_token_type: ACCOUNT_ID }),
      'invalid_request',
      /actor_token .* is required for login on behalf/,
      { reason: 'missing_actor_token' },
    );
    await refused(
      () => exchange(running, { subject_token: oleg, subject_token_type: ACCOUNT_ID, actor_token_type: ACCESS_TOKEN }),
      'invalid_request',
      /must not be sent without actor_token/,
      { reason: 'stray_actor_token_type' },
    );

    // Declared as something else than login on behalf: recorded as a refused delegation, which is what the request claimed to be.
    await refused(
      () => exchange(running, onBehalfParams(oleg, actorToken, { subject_token_type: ACCESS_TOKEN })),
      'invalid_request',
      /subject_token is an account id, but subject_token_type says urn:ietf:params:oauth:token-type:access_token; for login on behalf send subject_token_type=urn:behalf:params:oauth:token-type:account_id/,
      { reason: 'subject_type_mismatch', type: 'delegation.denied' },
    );
    await refused(
      () => exchange(running, { subject_token: oleg, actor_token: actorToken, actor_token_type: ACCESS_TOKEN }),
      'invalid_request',
      /^subject_token_type is required$/,
      { reason: 'missing_subject_token_type', type: 'delegation.denied' },
    );
    await refused(
      () => exchange(running, onBehalfParams(oleg, actorToken, { subject_token_type: 'urn:example:customer' })),
      'invalid_request',
      /subject_token_type urn:example:customer is not supported; use one of/,
      { reason: 'unsupported_token_type', type: 'delegation.denied' },
    );
    expect(await activeSessions(sam)).toBe(0);
  });

  it('a refresh token, or a JWT for a resource server that takes opaque tokens', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    await refused(
      () => exchange(running, onBehalfParams(oleg, actorToken, { requested_token_type: REFRESH_TOKEN_TYPE })),
      'invalid_request',
      /never issues refresh tokens/,
      { reason: 'refresh_token_requested' },
    );
    await refused(
      () => exchange(running, onBehalfParams(oleg, actorToken, { requested_token_type: 'urn:example:saml' })),
      'invalid_request',
      /requested_token_type urn:example:saml is not supported/,
      { reason: 'unsupported_requested_token_type' },
    );
    await refused(
      () => exchange(running, onBehalfParams(oleg, actorToken, { requested_token_type: JWT_TYPE, resource: OPAQUE_API })),
      'invalid_request',
      /cannot be issued for http:\/\/localhost:4010, which takes opaque access tokens/,
      { reason: 'unsupported_requested_token_type', actor: sam, subject: oleg },
    );
    expect(await activeSessions(sam)).toBe(0);
    // Asked for a JWT where JWTs are issued: that is what comes back, and what it is called.
    const { response } = await openSession(oleg, actorToken, { requested_token_type: JWT_TYPE });
    expect(response.body).toMatchObject({ issued_token_type: JWT_TYPE, token_type: 'DPoP' });
    expect(response.body.refresh_token).toBeUndefined();
  });

  it('scope beyond the on-behalf policy or the resource server’s scopes', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    await refused(
      () => exchange(running, onBehalfParams(oleg, actorToken, { scope: 'orders:admin' })),
      'invalid_scope',
      /^scope orders:admin is beyond what may be granted here \(orders:read orders:write\)$/,
      { reason: 'scope_escalation', actor: sam, subject: oleg },
    );
    await refused(
      () => exchange(running, onBehalfParams(oleg, actorToken, { scope: 'orders:read openid' })),
      'invalid_scope',
      /scope openid is beyond/,
      { reason: 'scope_escalation' },
    );
    // The opaque server has orders:read only: its tokens are read-only whatever the client's policy.
    await refused(
      () => exchange(running, onBehalfParams(oleg, actorToken, { resource: OPAQUE_API, scope: 'orders:write' })),
      'invalid_scope',
      /scope orders:write is beyond what may be granted here \(orders:read\)/,
      { reason: 'scope_escalation' },
    );
    // A resource server none of whose scopes the policy allows: nothing to grant, so no token.
    await refused(
      () => exchange(running, onBehalfParams(oleg, actorToken, { resource: INVENTORY_API })),
      'invalid_scope',
      /no scope may be granted/,
      { reason: 'no_scope' },
    );
    expect(await activeSessions(sam)).toBe(0);
  });

  it('an unknown resource or audience, and a resource and audience naming different servers; the same one through its alias is fine', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    await refused(
      () => exchange(running, onBehalfParams(oleg, actorToken, { resource: 'http://localhost:9999' })),
      'invalid_target',
      /unknown resource or audience "http:\/\/localhost:9999"/,
      { reason: 'unknown_resource', actor: sam, subject: oleg },
    );
    await refused(
      () => exchange(running, onBehalfParams(oleg, actorToken, { audience: 'billing' })),
      'invalid_target',
      /unknown resource or audience "billing"/,
      { reason: 'unknown_resource' },
    );
    await refused(
      () => exchange(running, onBehalfParams(oleg, actorToken, { resource: ORDERS_API, audience: OPAQUE_API })),
      'invalid_target',
      /must name one resource server; they name http:\/\/localhost:4003 and http:\/\/localhost:4010/,
      { reason: 'ambiguous_target' },
    );
    await refused(
      () => exchange(running, onBehalfParams(oleg, actorToken, { resource: [ORDERS_API, OPAQUE_API] })),
      'invalid_target',
      /must name one resource server/,
      { reason: 'ambiguous_target' },
    );
    // Known to Behalf, but not a server this client may get tokens for.
    await refused(
      () => exchange(running, onBehalfParams(oleg, actorToken, { resource: ORDERS_API, audience: 'payments' })),
      'invalid_target',
      /may not get tokens for urn:behalf:demo:payments/,
      { reason: 'target_not_allowed' },
    );
    expect(await activeSessions(sam)).toBe(0);

    const { response } = await openSession(oleg, actorToken, { resource: ORDERS_API, audience: 'orders' });
    expect(decodeJwt(String(response.body.access_token)).aud).toBe(ORDERS_API);
  });

  it('a client that does not authenticate, or with a wrong secret: invalid_client, 401', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    const params = new URLSearchParams({ grant_type: TOKEN_EXCHANGE, ...(onBehalfParams(oleg, actorToken) as Record<string, string>) });
    // RFC 6749 §5.2: no client authentication included is invalid_client too.
    const anonymous = await postForm(`${running.issuer}/token`, params);
    expectOAuthError(anonymous, 401, 'invalid_client', /client authentication/i);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
    const unauthenticated = await postForm(
      `${running.issuer}/token`,
      new URLSearchParams({ ...Object.fromEntries(params), client_id: 'storefront-electronics' }),
    );
    expectOAuthError(unauthenticated, 401, 'invalid_client', /client authentication/i);
    const wrongSecret = await exchange(running, onBehalfParams(oleg, actorToken), 'electronics', 'not-the-secret');
    expectOAuthError(wrongSecret, 401, 'invalid_client', /client authentication failed/i);
    expect(await activeSessions(sam)).toBe(0);
  });

  it('clients not registered for the grant (integrator-demo, portal): unauthorized_client', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    const body = { grant_type: TOKEN_EXCHANGE, ...(onBehalfParams(oleg, actorToken) as Record<string, string>) };
    expectOAuthError(
      await tokenRequest(running.issuer, 'integrator-demo', 'integrator-demo-secret', body),
      400,
      'unauthorized_client',
      /requested grant type is not allowed for this client/,
    );
    expectOAuthError(
      await tokenRequest(running.issuer, 'portal', 'portal-demo-secret', body),
      400,
      'unauthorized_client',
      /requested grant type is not allowed for this client/,
    );
  });

  it('a client registered for the grant but without a login-on-behalf policy (orders-api): unauthorized_client, audited', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    await refused(
      () =>
        tokenRequest(running.issuer, 'orders-api', 'orders-api-demo-secret', {
          grant_type: TOKEN_EXCHANGE,
          ...(onBehalfParams(oleg, actorToken) as Record<string, string>),
        }),
      'unauthorized_client',
      /^client orders-api is not allowed login on behalf$/,
      { reason: 'client_not_allowed', clientId: 'orders-api', actor: 'client:orders-api' },
    );
  });

  it('a fourth concurrent session of one agent; ending one lets the next open', async () => {
    const tokens: string[] = [];
    for (const customer of [oleg, anna, oleg, anna]) tokens.push((await reauthenticate(running, { customer })).actorToken);
    const sids: string[] = [];
    for (const [index, customer] of [oleg, anna, oleg].entries()) sids.push((await openSession(customer, tokens[index]!)).sid);
    expect(await activeSessions(sam)).toBe(3);

    await refused(
      () => exchange(running, onBehalfParams(anna, tokens[3]!)),
      'invalid_request',
      /^the agent already has 3 active on-behalf sessions \(limit 3\); end one first$/,
      { reason: 'session_limit', actor: sam, subject: anna },
    );
    expect(await activeSessions(sam)).toBe(3);
    // Continuing an open session is not opening one: still allowed at the limit.
    expect((await exchange(running, onBehalfParams(oleg, tokens[0]!))).status).toBe(200);

    expect((await endSession(sids[1]!)).status).toBe(200);
    const { sid } = await openSession(anna, tokens[3]!);
    expect(sids).not.toContain(sid);
    expect(await activeSessions(sam)).toBe(3);
  });

  it('keeps the limit when first exchanges race', async () => {
    const tokens: string[] = [];
    for (const customer of [oleg, anna, oleg, anna, oleg]) tokens.push((await reauthenticate(running, { customer })).actorToken);
    const customers = [oleg, anna, oleg, anna, oleg];
    const responses = await Promise.all(tokens.map((token, index) => exchange(running, onBehalfParams(customers[index]!, token))));
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([200, 200, 200, 400, 400]);
    for (const response of responses.filter((candidate) => candidate.status === 400))
      expect(response.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/limit 3/) });
    expect(await activeSessions(sam)).toBe(3);
  });

  it('opens one session when the first exchanges of one actor token race', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    const mark = await auditMark(running);
    const responses = await Promise.all([1, 2, 3].map(() => exchange(running, onBehalfParams(oleg, actorToken))));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200]);
    const sids = new Set(responses.map((response) => decodeJwt(String(response.body.access_token)).obo_sid));
    expect(sids.size).toBe(1);
    const started = (await running.behalf.audit.events.query({ type: 'on_behalf.started', limit: 10 })).events.filter(
      (event) => event.qid! > mark,
    );
    expect(started).toHaveLength(1);
    expect(await activeSessions(sam)).toBe(1);
  });

  it('an agent whose permission is revoked after the re-authentication, or during the session', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    expect(await running.behalf.accounts.revokePermission(sam, LOGIN_ON_BEHALF, electronics)).toBe(1);
    try {
      await refused(
        () => exchange(running, onBehalfParams(oleg, actorToken)),
        'invalid_request',
        /^the agent does not hold security:loginOnBehalf for this store$/,
        { reason: 'no_permission', actor: sam, subject: oleg },
      );
      expect(await activeSessions(sam)).toBe(0);
    } finally {
      await running.behalf.accounts.grantPermission(sam, LOGIN_ON_BEHALF, electronics);
    }

    const { sid } = await openSession(oleg, actorToken);
    await running.behalf.accounts.revokePermission(sam, LOGIN_ON_BEHALF, electronics);
    try {
      const mark = await auditMark(running);
      expectOAuthError(
        await exchange(running, onBehalfParams(oleg, actorToken)),
        400,
        'invalid_request',
        /does not hold security:loginOnBehalf/,
      );
      expect((await denialsSince(running, mark))[0]).toMatchObject({
        actor: sam,
        subject: oleg,
        sessionId: sid,
        details: { reason: 'no_permission' },
      });
    } finally {
      await running.behalf.accounts.grantPermission(sam, LOGIN_ON_BEHALF, electronics);
    }
  });

  it('a session past its end: refused, and tokens never outlive the session', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    const { sid } = await openSession(oleg, actorToken);
    // Two minutes left: the next token gets at most those, not the client's 600 s.
    await running.behalf.dataSource.query(`UPDATE on_behalf_session SET expires_at = now() + interval '120 seconds' WHERE id = $1`, [sid]);
    const short = await exchange(running, onBehalfParams(oleg, actorToken));
    expect(short.status).toBe(200);
    expect(Number(short.body.expires_in)).toBeGreaterThan(0);
    expect(Number(short.body.expires_in)).toBeLessThanOrEqual(120);
    const claims = decodeJwt(String(short.body.access_token));
    expect(claims.exp! - claims.iat!).toBe(short.body.expires_in);

    await running.behalf.dataSource.query(
      `UPDATE on_behalf_session SET started_at = now() - interval '2 hours', expires_at = now() - interval '1 hour' WHERE id = $1`,
      [sid],
    );
    const mark = await auditMark(running);
    expectOAuthError(
      await exchange(running, onBehalfParams(oleg, actorToken)),
      400,
      'invalid_request',
      /^the on-behalf session has expired; re-authenticate to start a new one$/,
    );
    expect((await denialsSince(running, mark))[0]).toMatchObject({
      actor: sam,
      subject: oleg,
      sessionId: sid,
      details: { reason: 'session_expired' },
    });
  });

  it('an actor token whose session has ended opens nothing new', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    const { sid } = await openSession(oleg, actorToken);
    await endSession(sid);
    const mark = await auditMark(running);
    expectOAuthError(
      await exchange(running, onBehalfParams(oleg, actorToken)),
      400,
      'invalid_request',
      /session has ended; re-authenticate/,
    );
    expect((await denialsSince(running, mark))[0]).toMatchObject({ sessionId: sid, details: { reason: 'session_ended' } });
  });
});

describe('a stale re-authentication', () => {
  let short: RunningBehalf;
  beforeAll(async () => {
    short = await startBehalf({ overrides: { onBehalf: { reauthMaxAgeSeconds: 30 } } });
  });
  afterAll(async () => {
    await short?.stop();
  });

  it('cannot open a session, but an open session continues without a new re-authentication', async () => {
    const customer = await customerId(short, 'electronics', 'oleg@example.com');
    const agent = await staffId(short, 'support@example.com');
    const stale = await reauthenticate(short, { customer });
    await short.behalf.dataSource.query(`UPDATE on_behalf_reauth SET authenticated_at = now() - interval '1 hour'`);

    const before = await short.behalf.audit.events.mark();
    const response = await exchange(short, onBehalfParams(customer, stale.actorToken));
    expectOAuthError(
      response,
      400,
      'invalid_request',
      /^the re-authentication is 3\d{3} s old; an on-behalf session must start within 30 s of it$/,
    );
    const [denial] = (await short.behalf.audit.events.query({ type: 'on_behalf.denied' })).events.filter((event) => event.qid! > before);
    expect(denial).toMatchObject({ actor: agent, subject: customer, details: { reason: 'stale_reauth', error: 'invalid_request' } });
    expect(await short.behalf.onBehalf.list({ agentId: agent })).toHaveLength(0);

    // A fresh one opens; once open, the session does not depend on the re-authentication's age.
    const fresh = await reauthenticate(short, { customer });
    expect((await exchange(short, onBehalfParams(customer, fresh.actorToken))).status).toBe(200);
    await short.behalf.dataSource.query(`UPDATE on_behalf_reauth SET authenticated_at = now() - interval '1 hour'`);
    expect((await exchange(short, onBehalfParams(customer, fresh.actorToken))).status).toBe(200);
  });
});

describe('fail closed', () => {
  async function withAuditBroken<T>(work: () => Promise<T>): Promise<T> {
    await running.behalf.dataSource.query('ALTER FUNCTION audit_event_enqueue RENAME TO audit_event_enqueue_disabled');
    try {
      return await work();
    } finally {
      await running.behalf.dataSource.query('ALTER FUNCTION audit_event_enqueue_disabled RENAME TO audit_event_enqueue');
    }
  }

  async function grantRows(): Promise<number> {
    const [row] = (await running.behalf.dataSource.query(`SELECT count(*)::int AS n FROM oidc_payload WHERE model = 'Grant'`)) as {
      n: number;
    }[];
    return row!.n;
  }

  function expectNoToken(response: JsonResponse): void {
    expect(response.status).toBeGreaterThanOrEqual(500);
    expect(response.body.access_token).toBeUndefined();
    expect(response.text).not.toMatch(/eyJ/);
  }

  it('the first exchange: no token, no session row, no grant left behind; it opens once the trail is back', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    const sessions = await sessionRows(sam);
    const grants = await grantRows();
    const head = await running.behalf.audit.events.mark();
    for (const extra of <Record<string, string>[]>[{}, { requested_token_type: ID_TOKEN_TYPE }, { resource: OPAQUE_API }]) {
      expectNoToken(await withAuditBroken(() => exchange(running, onBehalfParams(oleg, actorToken, extra))));
    }
    expect(await sessionRows(sam)).toBe(sessions);
    expect(await grantRows()).toBe(grants);
    expect(await running.behalf.audit.events.mark()).toBe(head);

    await openSession(oleg, actorToken);
    expect(await sessionRows(sam)).toBe(sessions + 1);
  });

  it('a continuation: no token (JWT, opaque or ID token), and no opaque token stored', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    const { sid } = await openSession(oleg, actorToken);
    const session = await running.behalf.onBehalf.session(sid);
    const tokensOfSession = async () => {
      const [row] = (await running.behalf.dataSource.query(
        `SELECT count(*)::int AS n FROM oidc_payload WHERE model = 'AccessToken' AND grant_id = $1`,
        [session!.grantId],
      )) as { n: number }[];
      return row!.n;
    };
    const stored = await tokensOfSession();
    for (const extra of <Record<string, string>[]>[{}, { resource: OPAQUE_API }, { requested_token_type: ID_TOKEN_TYPE }]) {
      expectNoToken(await withAuditBroken(() => exchange(running, onBehalfParams(oleg, actorToken, extra))));
    }
    expect(await tokensOfSession()).toBe(stored);
    expect((await exchange(running, onBehalfParams(oleg, actorToken, { resource: OPAQUE_API }))).status).toBe(200);
    expect(await tokensOfSession()).toBe(stored + 1);
  });
});

describe('an opaque resource server', () => {
  it('gets an opaque token whose introspection shows the customer as sub and the same act as the JWT; it dies with the session', async () => {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    const { response: jwtResponse, sid } = await openSession(oleg, actorToken);
    const jwt = decodeJwt(String(jwtResponse.body.access_token));

    const response = await exchange(running, onBehalfParams(oleg, actorToken, { resource: OPAQUE_API }));
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ issued_token_type: ACCESS_TOKEN, token_type: 'DPoP', scope: 'orders:read', expires_in: 600 });
    const opaque = String(response.body.access_token);
    expect(opaque).not.toContain('.');

    const seen = await introspect(opaque, OPAQUE_API_CLIENT.id, OPAQUE_API_CLIENT.secret);
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({
      active: true,
      sub: oleg,
      act: { sub: sam },
      obo_sid: sid,
      client_id: 'storefront-electronics',
      scope: 'orders:read',
      aud: OPAQUE_API,
    });
    expect(seen.body.act).toEqual(jwt.act);
    expect(seen.body.sub).toBe(jwt.sub);
    // The token's own client sees the same; a client that neither owns it nor operates its audience sees nothing.
    expect((await introspect(opaque, 'storefront-electronics', 'storefront-demo-secret')).body).toMatchObject({
      active: true,
      sub: oleg,
      act: { sub: sam },
    });
    expect((await introspect(opaque, 'integrator-demo', 'integrator-demo-secret')).body).toEqual({ active: false });
    expect((await introspect(opaque, 'orders-api', 'orders-api-demo-secret')).body).toEqual({ active: false });

    expect((await endSession(sid)).body).toMatchObject({ active: false, end_reason: 'ended_by_client' });
    await eventually(async () => (await introspect(opaque, OPAQUE_API_CLIENT.id, OPAQUE_API_CLIENT.secret)).body.active === false, {
      what: 'the opaque on-behalf token to die with its session',
      timeoutMs: 5000,
    });
    expect((await introspect(opaque, OPAQUE_API_CLIENT.id, OPAQUE_API_CLIENT.secret)).body).toEqual({ active: false });
  });

  it('is reachable through its alias as audience, with the read-only scope', async () => {
    const { actorToken } = await reauthenticate(running, { customer: anna });
    const response = await exchange(running, onBehalfParams(anna, actorToken, { audience: 'opaque-orders', scope: 'orders:read' }));
    expect(response.status).toBe(200);
    const seen = await introspect(String(response.body.access_token), OPAQUE_API_CLIENT.id, OPAQUE_API_CLIENT.secret);
    expect(seen.body).toMatchObject({ active: true, sub: anna, act: { sub: sam }, aud: OPAQUE_API });
  });
});
