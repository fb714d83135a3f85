/**
 * Pushed authorization requests (RFC 9126) for login on behalf, end to end
 * over HTTP: the storefront pushes the re-authentication request (with
 * `on_behalf_of`) on the back channel and sends the browser to Behalf with
 * only `client_id` and `request_uri`; no URL the browser visits at Behalf
 * names `on_behalf_of` or the customer, yet the re-authentication screen
 * (reading the interaction's parameters, i.e. the pushed request) names the
 * customer, and the session starts with a DPoP-bound token (RFC 9449). A
 * plain request with `on_behalf_of` from a client that must push is refused;
 * `require_pushed_authorization_requests` (RFC 9126 §6) holds every request
 * of its client to PAR.
 */
import * as client from 'openid-client';
import type { BehalfClientMetadata } from '../../src/server/clients/client-repository.js';
import { DEMO_CLIENTS } from '../../src/server/seed/demo-data.js';
import { startBehalfWithClients, type RunningBehalf } from '../support/behalf.js';
import { HttpBrowser } from '../support/browser.js';
import { startOrdersApi, type RunningOrdersApi } from '../support/orders-api.js';
import { customerId } from '../support/on-behalf.js';
import {
  bannerText,
  SAM_AS_OLEG,
  startStorefront,
  STOREFRONT,
  visibleText,
  WebBrowser,
  type RunningStorefront,
} from '../support/storefront.js';

const ALL_PAR = 'par-everything';
const ALL_PAR_REDIRECT = 'https://par.example.com/cb';

let running: RunningBehalf;
let orders: RunningOrdersApi;
let shop: RunningStorefront;
let oleg: string;

beforeAll(async () => {
  const portal = DEMO_CLIENTS.find((c) => c.metadata.client_id === 'portal')!.metadata;
  const allPar: BehalfClientMetadata = {
    ...portal,
    client_id: ALL_PAR,
    redirect_uris: [ALL_PAR_REDIRECT],
    post_logout_redirect_uris: [],
    require_pushed_authorization_requests: true,
  };
  running = await startBehalfWithClients([{ metadata: allPar, secret: `${ALL_PAR}-secret` }]);
  orders = await startOrdersApi(running);
  shop = await startStorefront(running, orders);
  oleg = await customerId(running, 'electronics', 'oleg@example.com');
}, 60_000);
afterEach(() => {
  expect(shop.errors).toEqual([]);
  expect(orders.errors).toEqual([]);
});
afterAll(async () => {
  await shop?.stop();
  await orders?.stop();
  await running?.stop();
});

/** A browser that remembers every URL it requested (each redirect hop included). */
class RecordingBrowser extends WebBrowser {
  readonly visited: string[] = [];

  override async request(url: string, init: RequestInit = {}): Promise<Response> {
    this.visited.push(url);
    return super.request(url, init);
  }
}

describe('the storefront’s re-authentication through PAR', () => {
  it('keeps on_behalf_of and the customer id out of every URL at Behalf, and still names the customer on the screen', async () => {
    const web = new RecordingBrowser({ [STOREFRONT]: shop.url });
    const reauth = await web.open(`${STOREFRONT}/electronics/on-behalf/start?customer=${oleg}`);
    expect(reauth.url.startsWith(running.issuer)).toBe(true);
    // The interaction reads on_behalf_of from the pushed request: the screen names whom the agent will act for.
    expect(visibleText(reauth.html)).toContain('Oleg Petrov');

    const authorize = web.visited.find((url) => url.startsWith(`${running.issuer}/auth`))!;
    expect([...new URL(authorize).searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(new URL(authorize).searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);

    const home = await web.submit(reauth, '/reauth', {
      email: 'support@example.com',
      password: 'Support-Demo-2026',
      reason: 'Customer cannot complete checkout',
    });
    expect(home.url).toBe(`${STOREFRONT}/electronics/`);
    expect(bannerText(home)).toBe(SAM_AS_OLEG);

    const atBehalf = web.visited.filter((url) => url.startsWith(running.issuer));
    expect(atBehalf.length).toBeGreaterThan(1);
    for (const url of [...atBehalf, ...web.visited.filter((url) => url.includes('/callback'))]) {
      expect(url).not.toContain('on_behalf_of');
      expect(url).not.toContain(oleg);
    }

    // The session's token is bound to the storefront's key, and the orders API took it with proofs.
    const { events } = await running.behalf.audit.events.query({ type: 'token.issued', subject: oleg, limit: 5 });
    const issued = events.find(
      (event) => (event.details as { mode?: string }).mode === 'on_behalf' && 'dpop_jkt' in (event.details as object),
    );
    expect(issued).toBeDefined();
    const ordersPage = await web.open(`${STOREFRONT}/electronics/orders`);
    expect(ordersPage.status).toBe(200);
  });

  it('refuses a plain authorization request with on_behalf_of from a client that must push it', async () => {
    const config = await client.discovery(new URL(running.issuer), 'storefront-electronics', 'storefront-demo-secret', undefined, {
      execute: [client.allowInsecureRequests],
    });
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: `${STOREFRONT}/electronics/callback`,
      scope: 'openid',
      prompt: 'login',
      on_behalf_of: oleg,
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state: 'plain-1',
    });
    const page = await new HttpBrowser(running.issuer).follow(url.toString());
    expect(page.url.startsWith(`${STOREFRONT}/electronics/callback?`)).toBe(true);
    const back = new URL(page.url).searchParams;
    expect(back.get('error')).toBe('invalid_request');
    expect(back.get('error_description')).toMatch(/must push login-on-behalf requests \(RFC 9126\)/);
    expect(back.get('state')).toBe('plain-1');
  });
});

describe('require_pushed_authorization_requests (RFC 9126 §6)', () => {
  const authorization = async () => ({
    redirect_uri: ALL_PAR_REDIRECT,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    state: 'par-state',
  });

  it('refuses every plain authorization request of the client and serves pushed ones', async () => {
    const config = await client.discovery(new URL(running.issuer), ALL_PAR, `${ALL_PAR}-secret`, undefined, {
      execute: [client.allowInsecureRequests],
    });
    const plain = await new HttpBrowser(running.issuer).follow(client.buildAuthorizationUrl(config, await authorization()).toString());
    expect(new URL(plain.url).searchParams.get('error')).toBe('invalid_request');
    expect(new URL(plain.url).searchParams.get('error_description')).toMatch(/Pushed Authorization Request must be used/);

    const pushed = await client.buildAuthorizationUrlWithPAR(config, await authorization());
    const page = await new HttpBrowser(running.issuer).follow(pushed.toString());
    expect(page.status).toBe(200);
    expect(page.url.startsWith(`${running.issuer}/interaction/`)).toBe(true);
  });
});
