/**
 * The support agent's and the customer's journey where a newcomer stumbled,
 * in a real browser (Debian's Chromium driven by playwright-core), with a
 * session limit of 1 so that the limit is met:
 * - the re-auth screen names the signed-in agent and keeps a right password
 *   when the reason is missing, the focus on the field in error (item 1);
 * - several successful re-authentications stay under a sign-in limit of 2
 *   attempts: only failures count (item 2);
 * - the limit is refused before the form, with a link to "My on-behalf
 *   sessions", where the agent ends a session (item 3);
 * - starting a second customer in the same store warns first, and the old tab
 *   is told it is out of date (item 4);
 * - the banner gives the reason and the time left (item 5);
 * - the portal's contact page says the agent already acts for the customer (item 7);
 * - the customer's access history puts the running session first with its
 *   End button, and names the products (item 9).
 * Every page shown is screenshotted to test-artifacts/e2e-journey/.
 * Skipped without a Chromium, saying how to install one (CI installs it).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  inBrowser,
  launchBrowser,
  openContact as findContact,
  portalAs as portalSignIn,
  screenshots,
  signInAtBehalf,
} from '../support/e2e.js';
import { startSystem, type RunningSystem } from '../support/system.js';

inBrowser('The agent’s and the customer’s journey in a real browser', () => {
  let system: RunningSystem;
  let browser: Browser;
  const { snap } = screenshots('e2e-journey');

  beforeAll(async () => {
    system = await startSystem({
      behalf: {
        onBehalf: { maxConcurrentSessions: 1 },
        rateLimits: { signInPerAccount: { points: 2, durationSeconds: 300 } },
      },
    });
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await system?.stop();
  });

  const text = async (page: Page) => ((await page.textContent('body')) ?? '').replace(/\s+/g, ' ');
  const focused = (page: Page) => page.evaluate('document.activeElement && document.activeElement.id');

  const portalAs = (context: BrowserContext, email: string, password: string) => portalSignIn(context, system.portalUrl, email, password);
  const openContact = (page: Page, name: string) => findContact(page, system.portalUrl, name);

  /** "Login on behalf" in the contact's row for a store: the storefront opens in a new tab. */
  async function loginOnBehalfFrom(portal: Page, store: string): Promise<Page> {
    const row = portal.getByRole('row').filter({ hasText: store });
    const [tab] = await Promise.all([portal.context().waitForEvent('page'), row.getByRole('link', { name: /Login on behalf/ }).click()]);
    await tab.waitForLoadState();
    return tab;
  }

  async function confirmAsSignedInAgent(tab: Page, reason: string): Promise<void> {
    await tab.getByText('Confirming as Sam Support').waitFor();
    await tab.getByLabel('Password').fill('Support-Demo-2026');
    await tab.getByLabel('Reason').fill(reason);
    await tab.getByRole('button', { name: 'Confirm' }).click();
    await tab.getByRole('status').filter({ hasText: 'is acting as' }).waitFor();
  }

  it('warns, limits and explains, and the customer sees it all', async () => {
    const agent = await browser.newContext();
    const portal = await portalAs(agent, 'support@example.com', 'Support-Demo-2026');
    await openContact(portal, 'Oleg Petrov');
    await snap(portal, 'portal-contact');

    // 1. Named on the screen; a right password is kept when the reason is missing.
    const oleg = await loginOnBehalfFrom(portal, 'Electronics');
    await oleg.getByText('Confirming as Sam Support').waitFor();
    expect(await oleg.getByLabel('Email').count()).toBe(0);
    expect(await focused(oleg)).toBe('password');
    await snap(oleg, 'reauth-names-the-agent');
    await oleg.getByLabel('Password').fill('Support-Demo-2026');
    await oleg.getByRole('button', { name: 'Confirm' }).click();
    await oleg.getByText('Password confirmed. Add the reason to continue.').waitFor();
    expect(await focused(oleg)).toBe('reason');
    await snap(oleg, 'reauth-reason-missing');
    await oleg.getByLabel('Reason').fill('Cart will not check out');
    await oleg.getByLabel(/Ticket id/).fill('SUP-1');
    await oleg.getByRole('button', { name: 'Confirm' }).click();

    // 5. The banner: who, why, how long.
    const olegBanner = oleg.getByRole('status').filter({ hasText: 'is acting as' });
    await olegBanner.waitFor();
    const said = (await olegBanner.textContent())!.replace(/\s+/g, ' ');
    expect(said).toContain('Support agent Sam Support is acting as Oleg Petrov');
    expect(said).toMatch(/Reason: Cart will not check out \(ticket SUP-1\) \d+ min left/);
    await snap(oleg, 'banner-reason-and-time');
    const product = (await oleg.locator('.product h2, .product h3').first().textContent())!.trim();
    await oleg
      .getByRole('button', { name: /Add to cart/ })
      .first()
      .click();
    await oleg.goto(`${system.storefrontUrl}/electronics/cart`);
    await snap(oleg, 'cart-on-behalf');

    // 7. The portal says the agent already acts for Oleg.
    await portal.reload();
    expect(await text(portal)).toMatch(/You are acting as this customer/);
    await snap(portal, 'portal-contact-open-session');

    // 4. Anna in the same store: a warning first; confirming ends Oleg's session.
    await openContact(portal, 'Anna Smith');
    const anna = await loginOnBehalfFrom(portal, 'Electronics');
    await anna.getByText('Starting login on behalf of another customer ends your session as Oleg Petrov').waitFor();
    await snap(anna, 'second-customer-warning');
    await anna.getByRole('button', { name: 'End the session as Oleg Petrov and continue' }).click();
    await confirmAsSignedInAgent(anna, 'Anna asked for a callback');
    expect(await text(anna)).toContain('Your session as Oleg Petrov has ended. You are now acting as Anna Smith.');
    await snap(anna, 'acting-as-anna');
    // Oleg's tab still shows his cart: its form does not act for Anna.
    await oleg.getByRole('button', { name: 'Check out' }).click();
    await oleg.getByRole('heading', { name: 'This page is out of date' }).waitFor();
    expect(await text(oleg)).toContain('This page was for your session as Oleg Petrov');
    await snap(oleg, 'old-tab-out-of-date');

    // 3. The limit (1): Oleg at Books is refused before the form, with the way to My on-behalf sessions.
    await openContact(portal, 'Oleg Petrov');
    const books = await loginOnBehalfFrom(portal, 'Books');
    await books.getByText('You already have as many on-behalf sessions running as allowed.').waitFor();
    expect(await books.getByLabel('Password').count()).toBe(0);
    await snap(books, 'limit-refused-before-the-form');
    await books.getByRole('link', { name: 'See and end your on-behalf sessions' }).click();
    await books.waitForURL(`${system.portalUrl}/my-sessions`);
    expect(await text(books)).toContain('Anna Smith');
    await snap(books, 'my-on-behalf-sessions');
    await books.getByRole('button', { name: /^End/ }).first().click();
    await books.getByText(/You ended your on-behalf session as Anna Smith/).waitFor();
    await snap(books, 'my-session-ended');

    // Room again: back to Oleg at Electronics (2: the third successful re-auth under a limit of two attempts).
    await openContact(portal, 'Oleg Petrov');
    const again = await loginOnBehalfFrom(portal, 'Electronics');
    await confirmAsSignedInAgent(again, 'Follow-up on the cart');
    await snap(again, 'acting-as-oleg-again');

    // 9. Oleg's own history: the running session first, with End; what was done names the product.
    const customer = await browser.newContext();
    const own = await customer.newPage();
    await own.goto(`${system.storefrontUrl}/electronics/`);
    await own.getByRole('link', { name: 'Sign in' }).first().click();
    await signInAtBehalf(own, 'oleg@example.com', 'Customer-Demo-2026');
    await own.waitForURL(`${system.storefrontUrl}/electronics/**`);
    await own.goto(`${system.storefrontUrl}/electronics/account/history`);
    const history = await text(own);
    expect(history.indexOf('Follow-up on the cart')).toBeLessThan(history.indexOf('Cart will not check out'));
    expect(history).toContain('Support agent Sam Support can act on your account right now.');
    expect(history).toContain(`Added 1 × ${product} to the cart`);
    await snap(own, 'customer-history');
    await own.getByRole('button', { name: /End this session/ }).click();
    await own.getByText('The session of support agent Sam Support has ended.').waitFor();
    await snap(own, 'customer-ended-the-session');
    await customer.close();
    await agent.close();
  }, 180_000);
});
