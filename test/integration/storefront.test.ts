/**
 * The storefront demo end to end over HTTP, with a real Behalf and a real
 * orders API: a customer shops and pays; a support agent logs in on behalf
 * (re-authentication at Behalf, the exchange on the storefront's back
 * channel), shops and pays as the customer under a banner, is refused the
 * account settings and ends the session; a session ended elsewhere is noticed
 * on the next page load; the customer then sees what was done on his behalf.
 */
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import type { Page } from '../support/browser.js';
import { basic } from '../support/oauth.js';
import { customerId, staffId } from '../support/on-behalf.js';
import { startOrdersApi, type RunningOrdersApi } from '../support/orders-api.js';
import { eventually } from '../support/poll.js';
import {
  bannerText,
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
import { portalToken } from '../support/staff.js';

const ELECTRONICS = `${STOREFRONT}/electronics`;

let running: RunningBehalf;
let orders: RunningOrdersApi;
let shop: RunningStorefront;
let oleg: string;
let sam: string;

beforeAll(async () => {
  running = await startBehalf({ overrides: { onBehalf: { maxConcurrentSessions: 10 } } });
  orders = await startOrdersApi(running, { sessionStatusCacheSeconds: 1 });
  shop = await startStorefront(running, orders, { statusCacheSeconds: 1 });
  oleg = await customerId(running, 'electronics', 'oleg@example.com');
  sam = await staffId(running, 'support@example.com');
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
const signIn = (web: WebBrowser) => signInAtStore(web, running.issuer);
const banner = bannerText;

async function loginOnBehalf(web: WebBrowser, options: { reason?: string; ticket?: string } = {}): Promise<Page> {
  const page = await loginOnBehalfAtStore(web, running.issuer, { customer: oleg, ...options });
  expect(page.url).toBe(`${ELECTRONICS}/`);
  return page;
}

async function row(table: string, id: string, columns = 'owner_id, created_by, modified_by, on_behalf_of') {
  const [found] = (await orders.api.dataSource.query(`SELECT ${columns} FROM ${table} WHERE id = $1`, [id])) as Record<
    string,
    string | null
  >[];
  return found;
}

/** Adds the first product to the cart, checks out and pays; returns the order id. */
async function buyAndPay(web: WebBrowser, home: Page, productIndex = 0): Promise<string> {
  const productId = productIds(home)[productIndex]!;
  const cart = await web.submit(home, '/cart/items', { quantity: '2' }, { containing: productId });
  expect(cart.url).toBe(`${ELECTRONICS}/cart`);
  expect(visibleText(cart.html)).toMatch(/Added 2 × .+ to the cart\./);
  const placed = await web.submit(cart, '/checkout');
  const orderId = /\/orders\/([0-9a-f-]{36})$/.exec(placed.url)?.[1];
  expect(orderId).toBeDefined();
  expect(visibleText(placed.html)).toContain('Order placed');
  const paid = await web.submit(placed, `/orders/${orderId}/pay`);
  expect(paid.url).toBe(`${ELECTRONICS}/orders/${orderId}`);
  expect(visibleText(paid.html)).toMatch(/Payment of [\d.]+ USD recorded/);
  expect(visibleText(paid.html)).toContain('This order is paid in full.');
  return orderId!;
}

async function behalfStatus(sessionId: string) {
  const response = await fetch(`${running.issuer}/on-behalf/sessions/${sessionId}/status`, {
    headers: { authorization: basic('storefront-electronics', 'storefront-demo-secret') },
  });
  return (await response.json()) as { active: boolean; end_reason: string | null };
}

async function latestSessionId(): Promise<string> {
  const [session] = await running.behalf.onBehalf.list({ customerId: oleg, limit: 1 });
  return session!.id;
}

let ownOrder: string;
let onBehalfOrder: string;

describe('a customer', () => {
  it('sees a welcome page, signs in through Behalf and gets the catalogue, in a session of this store only', async () => {
    const web = browser();
    const welcome = await web.open(`${ELECTRONICS}/`);
    expect(welcome.status).toBe(200);
    expect(pageTitle(welcome.html)).toBe('Welcome · Electronics');
    expect(welcome.html).toContain('<a class="skip-link" href="#main">Skip to main content</a>');
    expect(welcome.html).toContain('<main id="main"');
    expect(welcome.html).not.toMatch(/<script/i);
    expect(welcome.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(welcome.headers.get('content-security-policy')).toContain(`form-action 'self' ${running.issuer}`);

    const start = await web.request(`${ELECTRONICS}/signin`);
    const cookies = start.headers.getSetCookie().join('\n');
    expect(cookies).toMatch(/shop\.electronics\.sid=[^;]+; path=\/electronics\/; samesite=lax; httponly/);
    expect(cookies).toMatch(/shop\.electronics\.sid\.sig=/);

    const home = await signIn(web);
    expect(pageTitle(home.html)).toBe('Catalogue · Electronics');
    expect(productIds(home)).toHaveLength(8);
    expect(visibleText(home.html)).toContain('Signed in as Oleg Petrov');
    expect(banner(home)).toBeUndefined();
    // Every quantity field has a label, every button a name.
    expect(home.html.match(/<label for="qty-/g)).toHaveLength(8);
    expect(home.html).toMatch(/Add to cart<span class="visually-hidden">: Wireless headphones<\/span>/);

    // The Books store on the same origin knows nothing of it.
    const books = await web.open(`${STOREFRONT}/books/`);
    expect(pageTitle(books.html)).toBe('Welcome · Books');
    expect(
      web
        .allCookies()
        .filter((cookie) => cookie.name.startsWith('shop.'))
        .map((cookie) => [cookie.name, cookie.path]),
    ).toEqual(expect.arrayContaining([['shop.electronics.sid', '/electronics/']]));
  });

  it('adds to the cart, removes, checks out and pays; the orders API records him as owner and doer', async () => {
    const web = browser();
    const home = await signIn(web);
    const [first, second] = productIds(home);
    const withOne = await web.submit(home, '/cart/items', { quantity: '1' }, { containing: second! });
    const itemId = /\/cart\/items\/([0-9a-f-]{36})\/remove/.exec(withOne.html)![1]!;
    const removed = await web.submit(withOne, `/cart/items/${itemId}/remove`);
    expect(visibleText(removed.html)).toContain('Your cart is empty.');
    expect(first).toBeDefined();

    ownOrder = await buyAndPay(web, await web.open(`${ELECTRONICS}/`));
    expect(await row('shop_order', ownOrder)).toEqual({ owner_id: oleg, created_by: oleg, modified_by: oleg, on_behalf_of: null });
    const list = await web.open(`${ELECTRONICS}/orders`);
    expect(pageTitle(list.html)).toBe('My orders · Electronics');
    expect(list.html).toContain(`/electronics/orders/${ownOrder}`);
  });

  it('signs out through Behalf (RP-initiated logout) and is back at the store, signed out', async () => {
    const web = browser();
    const home = await signIn(web);
    const confirm = await web.submit(home, '/signout');
    expect(confirm.url.startsWith(`${running.issuer}/session/end`)).toBe(true);
    const back = await web.submit(confirm, '/session/end/confirm', { logout: 'yes' });
    expect(back.url).toBe(`${ELECTRONICS}/`);
    expect(pageTitle(back.html)).toBe('Welcome · Electronics');
  });
});

describe('login on behalf', () => {
  let agent: WebBrowser;
  let home: Page;

  it('re-authenticates the agent at Behalf and opens the store as the customer, with the banner on every page', async () => {
    agent = browser();
    home = await loginOnBehalf(agent, { ticket: 'SUP-4242' });
    expect(banner(home)).toBe(BANNER);
    expect(home.html).toContain('<div class="obo-banner" role="status">');
    expect(pageTitle(home.html)).toBe('Catalogue · Electronics — acting as Oleg Petrov');
    expect(visibleText(home.html)).toContain('You are now acting as Oleg Petrov.');
    expect(productIds(home)).toHaveLength(8);
    for (const path of [
      '/',
      '/cart',
      '/orders',
      `/orders/${ownOrder}`,
      '/account',
      '/account/password',
      '/account/email',
      '/account/payment-methods',
      '/account/history',
      '/nowhere',
    ]) {
      const page = await agent.open(`${ELECTRONICS}${path}`);
      expect([path, banner(page)]).toEqual([path, BANNER]);
    }
    // The other store on the same origin is not affected: its own cookie, its own (empty) session.
    const books = await agent.open(`${STOREFRONT}/books/`);
    expect([pageTitle(books.html), banner(books)]).toEqual(['Welcome · Books', undefined]);
    const session = await running.behalf.onBehalf.session(await latestSessionId());
    expect(session).toMatchObject({ agentId: sam, customerId: oleg, ticket: 'SUP-4242', endedAt: null });
  });

  it('places and pays an order: owned by the customer, created by the agent', async () => {
    onBehalfOrder = await buyAndPay(agent, home, 2);
    expect(await row('shop_order', onBehalfOrder)).toEqual({ owner_id: oleg, created_by: sam, modified_by: sam, on_behalf_of: oleg });
    const [payment] = (await orders.api.dataSource.query('SELECT id FROM shop_payment WHERE order_id = $1', [onBehalfOrder])) as {
      id: string;
    }[];
    expect(await row('shop_payment', payment!.id)).toEqual({ owner_id: oleg, created_by: sam, modified_by: sam, on_behalf_of: oleg });
    const page = await agent.open(`${ELECTRONICS}/orders`);
    expect(visibleText(page.html)).toContain('Placed by support agent Sam Support on your behalf');
  });

  it('refuses the account settings and the access history, with a clear message', async () => {
    for (const path of ['/account', '/account/password', '/account/email', '/account/payment-methods', '/account/history']) {
      const page = await agent.open(`${ELECTRONICS}${path}`);
      expect([path, page.status]).toEqual([path, 403]);
      expect(visibleText(page.html)).toContain(
        'cannot be viewed or changed while acting on behalf of a customer. Only Oleg Petrov can do that',
      );
    }
    // A forged post to the settings (with a valid CSRF token from a page) is refused too, before the orders API.
    const cart = await agent.open(`${ELECTRONICS}/cart`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(cart.html)![1]!;
    const body = new URLSearchParams({
      csrf,
      brand: 'visa',
      last4: '4242',
      expMonth: '12',
      expYear: String(new Date().getUTCFullYear() + 1),
    });
    const refused = await agent.open(`${ELECTRONICS}/account/payment-methods`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(refused.status).toBe(403);
    expect(banner(refused)).toBe(BANNER);
    expect((await orders.api.dataSource.query('SELECT count(*)::int AS n FROM shop_payment_method'))[0].n).toBe(0);
  });

  it('"End session" ends it at Behalf, clears the store session and says so', async () => {
    const sessionId = await latestSessionId();
    const page = await agent.open(`${ELECTRONICS}/cart`);
    const ended = await agent.submit(page, '/on-behalf/end');
    expect(ended.url).toBe(`${ELECTRONICS}/signed-out?reason=ended_by_agent`);
    expect(pageTitle(ended.html)).toBe('The on-behalf session has ended · Electronics');
    expect(visibleText(ended.html)).toContain('You ended the on-behalf session.');
    expect(banner(ended)).toBeUndefined();
    expect(await behalfStatus(sessionId)).toMatchObject({ active: false, end_reason: 'ended_by_client' });
    expect(agent.cookiesFor(`${ELECTRONICS}/`).has('shop.electronics.sid')).toBe(false);
    const after = await agent.open(`${ELECTRONICS}/cart`);
    expect(after.url.startsWith(running.issuer)).toBe(true);
  });

  it('notices on the next page load that an admin ended the session elsewhere', async () => {
    const web = browser();
    await loginOnBehalf(web, { reason: 'Second look' });
    const sessionId = await latestSessionId();
    const adminToken = await portalToken(running.issuer, 'ada', 'openid profile');
    const ended = await fetch(`${running.issuer}/admin/on-behalf/sessions/${sessionId}/end`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(ended.status).toBe(200);
    // The storefront trusts Behalf's "active" for a second (statusCacheSeconds: 1).
    const page = await eventually(
      async () => {
        const next = await web.open(`${ELECTRONICS}/cart`);
        return next.url.includes('/signed-out') ? next : undefined;
      },
      { what: 'the storefront noticing the ended session', timeoutMs: 5_000, intervalMs: 250 },
    );
    expect(page.url).toBe(`${ELECTRONICS}/signed-out?reason=ended_by_admin`);
    expect(visibleText(page.html)).toContain('An administrator ended the on-behalf session.');
    expect(pageTitle(page.html)).toBe('The on-behalf session has ended · Electronics');
    expect(web.cookiesFor(`${ELECTRONICS}/`).has('shop.electronics.sid')).toBe(false);
  });
});

describe("the customer's view", () => {
  it('"My orders" marks the order placed on his behalf, naming the agent', async () => {
    const web = browser();
    await signIn(web);
    const list = await web.open(`${ELECTRONICS}/orders`);
    const text = visibleText(list.html);
    expect(text).toContain('Placed by support agent Sam Support on your behalf');
    expect(list.html).toContain(`/electronics/orders/${onBehalfOrder}`);
    const detail = await web.open(`${ELECTRONICS}/orders/${onBehalfOrder}`);
    expect(visibleText(detail.html)).toContain('Placed by support agent Sam Support on your behalf');
    const own = await web.open(`${ELECTRONICS}/orders/${ownOrder}`);
    expect(visibleText(own.html)).not.toContain('on your behalf');
  });

  it('the access history lists the sessions (who, when, reason, ticket, what was done); he ends an active one', async () => {
    const agent = browser();
    await loginOnBehalf(agent, { reason: 'Follow-up call', ticket: 'SUP-9' });
    const activeId = await latestSessionId();

    const web = browser();
    await signIn(web);
    const history = await web.open(`${ELECTRONICS}/account/history`);
    expect(history.status).toBe(200);
    expect(pageTitle(history.html)).toBe('Account access history · Electronics');
    const text = visibleText(history.html);
    expect(text).toContain('Support agent Sam Support Active now');
    expect(text).toContain('Reason Customer cannot complete checkout');
    expect(text).toContain('Ticket SUP-4242');
    expect(text).toContain('Reason Follow-up call');
    expect(text).toContain('Where Electronics storefront');
    expect(text).toMatch(/UTC \(ended by the support agent\)/);
    expect(text).toMatch(/UTC \(ended by an administrator\)/);
    // The running session first, with its End button at the top.
    expect(text.indexOf('Reason Follow-up call')).toBeLessThan(text.indexOf('Reason Customer cannot complete checkout'));
    expect(text).toContain('Support agent Sam Support can act on your account right now. End this session');
    // What was done names the products and links the order.
    expect(text).toMatch(/Placed an order of \d+\.\d\d USD — order [0-9a-f]{8} \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)/);
    expect(text).toMatch(/Ordered 2 × [^(]+ — order [0-9a-f]{8}/);
    expect(text).toMatch(/Paid \d+\.\d\d USD — order [0-9a-f]{8}/);
    expect(text).toMatch(/Added 2 × .+ to the cart/);
    expect(text).not.toContain('created an order line');
    expect(history.html).toContain(`<a href="/electronics/orders/${onBehalfOrder}">order ${onBehalfOrder.slice(0, 8)}</a>`);

    const ended = await web.submit(history, `/account/history/${activeId}/end`);
    expect(ended.url).toBe(`${ELECTRONICS}/account/history`);
    expect(visibleText(ended.html)).toContain('The session of support agent Sam Support has ended.');
    expect(visibleText(ended.html)).not.toContain('Active now');
    expect(await behalfStatus(activeId)).toMatchObject({ active: false, end_reason: 'ended_by_customer' });

    // The agent's next page load says so.
    const page = await eventually(
      async () => {
        const next = await agent.open(`${ELECTRONICS}/`);
        return next.url.includes('/signed-out') ? next : undefined;
      },
      { what: 'the agent seeing the end', timeoutMs: 5_000, intervalMs: 250 },
    );
    expect(visibleText(page.html)).toContain('The customer ended the on-behalf session.');
  });

  it('keeps his own settings: saves a payment method', async () => {
    const web = browser();
    await signIn(web);
    const settings = await web.open(`${ELECTRONICS}/account`);
    expect(settings.status).toBe(200);
    const form = await web.open(`${ELECTRONICS}/account/payment-methods`);
    expect(form.html).toContain('<label for="last4">Last four digits</label>');
    const saved = await web.submit(form, '/account/payment-methods', {
      brand: 'visa',
      last4: '4242',
      expMonth: '12',
      expYear: String(new Date().getUTCFullYear() + 1),
    });
    expect(visibleText(saved.html)).toContain('Card ending in 4242 saved.');
    expect(visibleText(saved.html)).toMatch(/visa ending in 4242, expires 12\/\d{4} \(default\)/);
  });
});
