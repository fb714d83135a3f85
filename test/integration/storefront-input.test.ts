/**
 * The storefront demo at its edges: bad input of every kind gets a clean 4xx
 * page (never a 500), tokens that run out are renewed (the customer's through
 * a silent authorization request, the on-behalf one by exchanging again), and
 * a cancelled re-authentication starts nothing.
 */
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import type { Page } from '../support/browser.js';
import { basic } from '../support/oauth.js';
import { customerId } from '../support/on-behalf.js';
import { startOrdersApi, type RunningOrdersApi } from '../support/orders-api.js';
import {
  bannerText as banner,
  loginOnBehalfAtStore,
  pageTitle,
  productIds,
  SAM_AS_OLEG as BANNER,
  signInAtStore,
  startStorefront,
  STOREFRONT,
  visibleText,
  WebBrowser,
  type RunningStorefront,
} from '../support/storefront.js';

const ELECTRONICS = `${STOREFRONT}/electronics`;

let running: RunningBehalf;
let orders: RunningOrdersApi;
let shop: RunningStorefront;
let oleg: string;

beforeAll(async () => {
  running = await startBehalf();
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

const browser = () => new WebBrowser({ [STOREFRONT]: shop.url });

async function latestSessionId(): Promise<string> {
  const [session] = await running.behalf.onBehalf.list({ customerId: oleg, limit: 1 });
  return session!.id;
}

async function behalfStatus(sessionId: string) {
  const response = await fetch(`${running.issuer}/on-behalf/sessions/${sessionId}/status`, {
    headers: { authorization: basic('storefront-electronics', 'storefront-demo-secret') },
  });
  return (await response.json()) as { active: boolean; end_reason: string | null };
}

describe('bad input gets a clean 4xx page, never a 500', () => {
  let web: WebBrowser;
  let home: Page;

  beforeAll(async () => {
    web = browser();
    home = await signInAtStore(web, running.issuer);
  });

  async function post(path: string, fields: Record<string, string>) {
    return web.open(`${ELECTRONICS}${path}`, {
      method: 'POST',
      body: new URLSearchParams(fields),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }

  it('an unknown product or a bad quantity', async () => {
    const unknown = await web.submit(home, '/cart/items', { productId: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.status).toBe(400);
    expect(visibleText(unknown.html)).toContain('The shop could not do that.');
    const garbage = await web.submit(home, '/cart/items', { productId: 'not-a-product' });
    expect(garbage.status).toBe(400);
    expect(visibleText(garbage.html)).toContain('That product is not in the catalogue.');
    const zero = await web.submit(home, '/cart/items', { quantity: '0' });
    expect(zero.status).toBe(400);
    expect(visibleText(zero.html)).toContain('The quantity must be a whole number from 1 to 99.');
  });

  it('a forged or missing CSRF token', async () => {
    const productId = productIds(home)[0]!;
    for (const csrf of ['forged-token', '']) {
      const page = await post('/cart/items', { csrf, productId, quantity: '1' });
      expect(page.status).toBe(403);
      expect(visibleText(page.html)).toContain('This form has expired or did not come from this store.');
    }
    // A post from a browser with no session at all.
    const stranger = await browser().open(`${ELECTRONICS}/checkout`, {
      method: 'POST',
      body: new URLSearchParams({ csrf: 'x' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(stranger.status).toBe(403);
  });

  it('unknown stores, pages, ids and methods', async () => {
    expect((await web.open(`${STOREFRONT}/toys/`)).status).toBe(404);
    expect((await web.open(`${ELECTRONICS}/nowhere`)).status).toBe(404);
    const badOrder = await web.open(`${ELECTRONICS}/orders/not-an-id`);
    expect(badOrder.status).toBe(404);
    expect(visibleText(badOrder.html)).toContain('There is no such order here.');
    expect((await web.open(`${ELECTRONICS}/orders/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
    expect((await web.open(`${ELECTRONICS}/cart/items`)).status).toBe(405);
    const noSlash = await web.request(ELECTRONICS);
    expect([noSlash.status, noSlash.headers.get('location')]).toEqual([303, '/electronics/']);
  });

  it('a broken on-behalf link or a callback that belongs to no sign-in', async () => {
    const link = await web.open(`${ELECTRONICS}/on-behalf/start`);
    expect(link.status).toBe(400);
    expect(visibleText(link.html)).toContain('does not name a customer account');
    expect((await web.open(`${ELECTRONICS}/on-behalf/start?customer=oleg`)).status).toBe(400);
    expect((await web.open(`${ELECTRONICS}/on-behalf/start?customer=${oleg}&customer=${oleg}`)).status).toBe(400);
    const callback = await web.open(`${ELECTRONICS}/callback?code=abc&state=nope`);
    expect(callback.status).toBe(400);
    expect(visibleText(callback.html)).toContain('does not belong to a sign-in started in this browser');
  });

  it('an oversized form', async () => {
    const page = await post('/cart/items', { csrf: 'x', productId: 'y'.repeat(20_000) });
    expect(page.status).toBe(413);
  });
});

describe('tokens that run out', () => {
  let eager: RunningStorefront;

  beforeAll(async () => {
    // Renews 598 s before expiry: the 600 s tokens are due two seconds after they are issued.
    eager = await startStorefront(running, orders, { renewBeforeSeconds: 598 });
  });
  afterEach(() => expect(eager.errors).toEqual([]));
  afterAll(async () => {
    await eager?.stop();
  });

  const issued = async (subject: string, grantType: string) =>
    (await running.behalf.audit.events.query({ type: 'token.issued', subject, limit: 500 })).events.filter(
      (event) => event.details.grant_type === grantType,
    ).length;

  it('on behalf: the orders token is renewed by exchanging the actor token again, in the same session', async () => {
    const web = new WebBrowser({ [STOREFRONT]: eager.url });
    await loginOnBehalfAtStore(web, running.issuer, { customer: oleg, reason: 'Renewal check' });
    const sessionId = await latestSessionId();
    const before = (await running.behalf.audit.events.query({ type: 'token.issued', sessionId })).events.length;
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    const page = await web.open(`${ELECTRONICS}/cart`);
    expect(banner(page)).toBe(BANNER);
    const after = (await running.behalf.audit.events.query({ type: 'token.issued', sessionId })).events.length;
    expect(after).toBe(before + 1);
    expect((await behalfStatus(sessionId)).active).toBe(true);
    await web.submit(page, '/on-behalf/end');
  });

  it('a customer: the orders token is renewed silently through Behalf (prompt=none) and the page still loads', async () => {
    const web = new WebBrowser({ [STOREFRONT]: eager.url });
    await signInAtStore(web, running.issuer);
    const before = await issued(oleg, 'authorization_code');
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    const page = await web.open(`${ELECTRONICS}/cart`);
    expect(page.url).toBe(`${ELECTRONICS}/cart`);
    expect(pageTitle(page.html)).toBe('Cart · Electronics');
    expect(await issued(oleg, 'authorization_code')).toBe(before + 1);
  });
});

describe('cancelling', () => {
  it('the re-authentication at Behalf: nothing starts', async () => {
    const web = browser();
    const reauth = await web.open(`${ELECTRONICS}/on-behalf/start?customer=${oleg}`);
    const back = await web.submit(reauth, '/abort');
    expect(back.url.startsWith(`${ELECTRONICS}/callback?error=access_denied`)).toBe(true);
    expect(back.status).toBe(200);
    expect(pageTitle(back.html)).toBe('Login on behalf was cancelled · Electronics');
    expect(banner(back)).toBeUndefined();
  });
});

describe('when Behalf cannot be reached', () => {
  it('signing in says so (503), never a 500', async () => {
    const offline = await startStorefront(running, orders, { issuer: 'http://127.0.0.1:9' });
    try {
      const web = new WebBrowser({ [STOREFRONT]: offline.url });
      const page = await web.open(`${ELECTRONICS}/signin`);
      expect(page.status).toBe(503);
      expect(visibleText(page.html)).toContain('Behalf, the sign-in service, cannot be reached right now.');
      expect((await web.open(`${ELECTRONICS}/on-behalf/start?customer=${oleg}`)).status).toBe(503);
      expect(offline.errors).toEqual([]);
    } finally {
      await offline.stop();
    }
  });
});

describe('a login on behalf Behalf refuses', () => {
  it('says why at Behalf, then at the store, and starts no session (here: the agent’s concurrent-session limit, 3)', async () => {
    const olegAtBooks = await customerId(running, 'books', 'oleg@example.com');
    const bea = { customer: olegAtBooks, store: 'books', email: 'books-support@example.com' };
    for (let i = 0; i < 3; i += 1) {
      const page = await loginOnBehalfAtStore(browser(), running.issuer, bea);
      expect(banner(page)).toBe('Support agent Bea Books is acting as Oleg Petrov — End session');
    }
    const web = browser();
    // Refused at Behalf's screen as soon as the password says who it is, before any exchange.
    const atBehalf = await loginOnBehalfAtStore(web, running.issuer, bea);
    expect(atBehalf.status).toBe(403);
    expect(pageTitle(atBehalf.html)).toBe('Login on behalf refused · Behalf');
    expect(visibleText(atBehalf.html)).toContain('You already have as many on-behalf sessions running as allowed.');
    const refused = await web.submit(atBehalf, '/abort');
    expect(refused.status).toBe(403);
    expect(pageTitle(refused.html)).toBe('Login on behalf was refused · Books');
    expect(visibleText(refused.html)).toContain(
      'You already have as many on-behalf sessions running as allowed. End one of them, then start again.',
    );
    expect(refused.html).toContain('Back to the support portal');
    expect(banner(refused)).toBeUndefined();
    expect(pageTitle((await web.open(`${STOREFRONT}/books/`)).html)).toBe('Welcome · Books');
  });
});
