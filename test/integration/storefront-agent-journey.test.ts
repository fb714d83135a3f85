/**
 * The support agent's journey at the storefront, where a newcomer stumbled:
 * the banner says why and for how long (and warns near the end), starting a
 * second customer says first that it ends the running session, a tab still
 * showing the earlier customer cannot act on the new one, and the pages an
 * agent lands on lead back to the portal and say why in one sentence.
 */
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import type { Page } from '../support/browser.js';
import { customerId } from '../support/on-behalf.js';
import { startOrdersApi, type RunningOrdersApi } from '../support/orders-api.js';
import {
  bannerDetails,
  bannerText,
  loginOnBehalfAtStore,
  pageTitle,
  productIds,
  SAM_AS_OLEG,
  startStorefront,
  STOREFRONT,
  visibleText,
  WebBrowser,
  type RunningStorefront,
} from '../support/storefront.js';

const ELECTRONICS = `${STOREFRONT}/electronics`;
const PORTAL = 'http://portal.test:4002';

let running: RunningBehalf;
let orders: RunningOrdersApi;
let shop: RunningStorefront;
let oleg: string;
let anna: string;

beforeAll(async () => {
  running = await startBehalf({ overrides: { onBehalf: { maxConcurrentSessions: 10 } } });
  orders = await startOrdersApi(running, { sessionStatusCacheSeconds: 1 });
  shop = await startStorefront(running, orders, { statusCacheSeconds: 0, portalUrl: PORTAL });
  oleg = await customerId(running, 'electronics', 'oleg@example.com');
  anna = await customerId(running, 'electronics', 'anna@example.com');
}, 60_000);
afterEach(() => {
  expect(shop.errors).toEqual([]);
});
afterAll(async () => {
  await shop?.stop();
  await orders?.stop();
  await running?.stop();
});

const browser = () => new WebBrowser({ [STOREFRONT]: shop.url });

async function actAs(web: WebBrowser, customer: string, options: { reason?: string; ticket?: string } = {}): Promise<Page> {
  const page = await loginOnBehalfAtStore(web, running.issuer, { customer, ...options });
  expect(page.url).toBe(`${ELECTRONICS}/`);
  return page;
}

async function sessionOf(customer: string): Promise<string> {
  const [session] = await running.behalf.onBehalf.list({ customerId: customer, limit: 1 });
  return session!.id;
}

describe('the banner', () => {
  it('says why the agent acts and how long is left', async () => {
    const web = browser();
    const home = await actAs(web, oleg, { reason: 'Cart will not check out', ticket: 'SUP-77' });
    expect(bannerText(home)).toBe(SAM_AS_OLEG);
    expect(bannerDetails(home)).toMatch(/^Reason: Cart will not check out \(ticket SUP-77\) (9|10) min left$/);
    expect(home.html).toContain('<div class="obo-banner" role="status">');
  });

  it('warns in the last minutes, and says how to go on', async () => {
    const web = browser();
    await actAs(web, oleg);
    await running.behalf.dataSource.query(`UPDATE on_behalf_session SET expires_at = now() + interval '3 minutes' WHERE id = $1`, [
      await sessionOf(oleg),
    ]);
    const page = await web.open(`${ELECTRONICS}/cart`);
    expect(page.html).toContain('<div class="obo-banner obo-ending" role="status">');
    expect(bannerDetails(page)).toMatch(/Ends in 3 min: finish now, or start again from the portal to continue\.$/);
  });
});

describe('a second customer in the same store', () => {
  it('is started only after the agent is told it ends the running session', async () => {
    const web = browser();
    const asOleg = await actAs(web, oleg);
    const olegSession = await sessionOf(oleg);

    const warning = await web.open(`${ELECTRONICS}/on-behalf/start?customer=${anna}`);
    expect(warning.url).toBe(`${ELECTRONICS}/on-behalf/start?customer=${anna}`);
    expect(pageTitle(warning.html)).toBe('Starting this ends your current session · Electronics — acting as Oleg Petrov');
    expect(visibleText(warning.html)).toContain('Starting login on behalf of another customer ends your session as Oleg Petrov');
    // Nothing ended yet: the agent may still keep acting as Oleg.
    expect(await running.behalf.onBehalf.session(olegSession)).toMatchObject({ endedAt: null });

    // Confirmed: the session as Oleg ends now, as the button says (its place under the limit is free again).
    const reauth = await web.submit(warning, '/on-behalf/start');
    expect(reauth.url.startsWith(running.issuer)).toBe(true);
    expect(await running.behalf.onBehalf.session(olegSession)).toMatchObject({ endReason: 'ended_by_client' });
    const asAnna = await web.submit(reauth, '/reauth', {
      email: 'support@example.com',
      password: 'Support-Demo-2026',
      reason: 'Second customer',
    });
    expect(asAnna.url).toBe(`${ELECTRONICS}/`);
    expect(bannerText(asAnna)).toBe('Support agent Sam Support is acting as Anna Smith — End session');
    expect(visibleText(asAnna.html)).toContain('Your session as Oleg Petrov has ended. You are now acting as Anna Smith.');
    expect(await running.behalf.onBehalf.session(olegSession)).toMatchObject({ endReason: 'ended_by_client' });

    // The old tab still shows Oleg's catalogue: its form must not put something in Anna's cart.
    const stale = await web.submit(asOleg, '/cart/items', { quantity: '1' }, { containing: productIds(asOleg)[0]! });
    expect(stale.status).toBe(409);
    expect(pageTitle(stale.html)).toBe('This page is out of date · Electronics — acting as Anna Smith');
    expect(visibleText(stale.html)).toContain(
      'This page was for your session as Oleg Petrov, which ended when you started another login on behalf in this browser. Nothing was changed.',
    );
    const cart = await web.open(`${ELECTRONICS}/cart`);
    expect(visibleText(cart.html)).not.toMatch(/Added .* to the cart/);
  });

  it('for the same customer says the session runs already, and starts again only if asked', async () => {
    const web = browser();
    await actAs(web, oleg);
    const again = await web.open(`${ELECTRONICS}/on-behalf/start?customer=${oleg}`);
    expect(pageTitle(again.html)).toBe('You are already acting as Oleg Petrov · Electronics — acting as Oleg Petrov');
    const home = await web.open(`${ELECTRONICS}/`);
    expect(bannerText(home)).toBe(SAM_AS_OLEG);
  });
});

describe('the pages an agent lands on', () => {
  it('after ending the session: the way back to the portal, no customer sign-in', async () => {
    const web = browser();
    const home = await actAs(web, oleg);
    const ended = await web.submit(home, '/on-behalf/end');
    expect(visibleText(ended.html)).toContain('You ended the on-behalf session.');
    expect(ended.html).toContain(`<a class="button" href="${PORTAL}/">Back to the support portal</a>`);
    expect(ended.html).not.toContain('>Sign in</a>');
  });

  it('after cancelling at Behalf: one sentence saying why, and the way back', async () => {
    const web = browser();
    const reauth = await web.open(`${ELECTRONICS}/on-behalf/start?customer=${oleg}`);
    const back = await web.submit(reauth, '/abort');
    expect(pageTitle(back.html)).toBe('Login on behalf was cancelled · Electronics');
    const text = visibleText(back.html);
    expect(text).toContain('You left Behalf’s confirmation screen without confirming, so no on-behalf session was started.');
    expect(text.match(/cancelled/g)).toHaveLength(1);
    expect(back.html).toContain(`href="${PORTAL}/">Back to the support portal</a>`);
  });

  it('a customer’s own signed-out page stays the customer’s', async () => {
    const web = browser();
    const page = await web.open(`${ELECTRONICS}/signed-out?reason=signin_expired`);
    expect(page.html).not.toContain('support portal');
    expect(page.html).toContain('>Sign in</a>');
  });
});
