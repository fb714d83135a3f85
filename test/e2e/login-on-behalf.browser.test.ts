/**
 * The product brief's journey in a real browser (Debian's Chromium driven by
 * playwright-core): the agent signs in to the portal, finds Oleg, logs in on
 * his behalf in a new tab, shops and pays under the banner, ends the session;
 * Oleg then sees what was done on his behalf. Screenshots of each step go to
 * test-artifacts/e2e/. Without a Chromium the suite is skipped, saying how to
 * install one (CI installs it).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { AuditRepository, verifyChain } from '../../src/audit/index.js';
import { inBrowser, launchBrowser, openContact, portalAs as portalSignIn, screenshots, signInAtBehalf } from '../support/e2e.js';
import { startSystem, type RunningSystem } from '../support/system.js';

inBrowser('Login on behalf in a real browser', () => {
  let system: RunningSystem;
  let browser: Browser;
  const { snap } = screenshots('e2e');

  beforeAll(async () => {
    system = await startSystem();
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await system?.stop();
  });

  const portalAs = (context: BrowserContext, email: string, password: string) => portalSignIn(context, system.portalUrl, email, password);

  const openOleg = (page: Page) => openContact(page, system.portalUrl, 'Oleg Petrov');

  it('the whole journey: portal → re-auth → shop and pay on behalf → end → the customer sees it', async () => {
    const agent = await browser.newContext();
    const portal = await portalAs(agent, 'support@example.com', 'Support-Demo-2026');
    await snap(portal, 'portal-signed-in');
    await openOleg(portal);
    await snap(portal, 'portal-contact');

    const row = portal.getByRole('row').filter({ hasText: 'Electronics' });
    const [shop] = await Promise.all([agent.waitForEvent('page'), row.getByRole('link', { name: /Login on behalf/ }).click()]);
    await shop.waitForLoadState();
    await shop.getByText('Confirm it is you to sign in as').waitFor();
    expect(await shop.textContent('main')).toContain('Oleg Petrov (oleg@example.com) at Electronics');
    // Signed in to Behalf through the portal, Sam is named: only his password is asked.
    expect((await shop.textContent('main'))!.replace(/\s+/g, ' ')).toContain('Confirming as Sam Support (support@example.com)');
    expect(await shop.getByLabel('Email').count()).toBe(0);
    await snap(shop, 'reauth-screen');
    await shop.getByLabel('Password').fill('Support-Demo-2026');
    await shop.getByLabel('Reason').fill('Customer cannot complete checkout');
    await shop.getByLabel(/Ticket id/).fill('SUP-4242');
    await shop.getByRole('button', { name: 'Confirm' }).click();

    const banner = shop.getByRole('status').filter({ hasText: 'is acting as' });
    await banner.waitFor();
    expect((await banner.textContent())!.replace(/\s+/g, ' ')).toContain(
      'Support agent Sam Support is acting as Oleg Petrov — End session',
    );
    await snap(shop, 'storefront-on-behalf');

    await shop.goto(`${system.storefrontUrl}/electronics/`);
    await shop
      .getByRole('button', { name: /Add to cart/ })
      .first()
      .click();
    await shop.goto(`${system.storefrontUrl}/electronics/cart`);
    await snap(shop, 'cart');
    await shop.getByRole('button', { name: 'Check out' }).click();
    await shop.getByRole('heading', { name: /^Order / }).waitFor();
    await shop.getByRole('button', { name: /^Pay / }).click();
    await shop.getByText('This order is paid in full.').waitFor();
    expect(await banner.isVisible()).toBe(true);
    await snap(shop, 'order-paid-on-behalf');

    await shop.goto(`${system.storefrontUrl}/electronics/account/payment-methods`);
    expect(await shop.textContent('main')).toMatch(/not allowed while acting on behalf|while you act on behalf|on behalf/i);
    await snap(shop, 'settings-refused');

    await banner.getByRole('button', { name: 'End session' }).click();
    await shop.getByText('The on-behalf session has ended').waitFor();
    await snap(shop, 'session-ended');
    await agent.close();

    // Oleg, in his own browser.
    const customer = await browser.newContext();
    const own = await customer.newPage();
    await own.goto(`${system.storefrontUrl}/electronics/`);
    await own.getByRole('link', { name: 'Sign in' }).first().click();
    await signInAtBehalf(own, 'oleg@example.com', 'Customer-Demo-2026');
    await own.waitForURL(`${system.storefrontUrl}/electronics/**`);
    await own.goto(`${system.storefrontUrl}/electronics/orders`);
    await own.getByText('Placed by support agent Sam Support on your behalf').first().waitFor();
    await snap(own, 'customer-orders');
    await own.goto(`${system.storefrontUrl}/electronics/account/history`);
    expect(await own.textContent('main')).toContain('Sam Support');
    expect(await own.textContent('main')).toContain('Customer cannot complete checkout');
    await snap(own, 'customer-history');
    await customer.close();

    // The records agree: the order is Oleg's, made by Sam; both audit chains verify.
    const sam = (await system.behalf.behalf.accounts.findByUsername(null, 'support@example.com'))!.id;
    const electronics = (await system.behalf.behalf.stores.findBySlug('electronics'))!.id;
    const oleg = (await system.behalf.behalf.accounts.findByUsername(electronics, 'oleg@example.com'))!.id;
    const rows = (await system.orders.dataSource.query(`SELECT owner_id, created_by, on_behalf_of FROM shop_order WHERE created_by = $1`, [
      sam,
    ])) as { owner_id: string; created_by: string; on_behalf_of: string }[];
    expect(rows).toEqual([{ owner_id: oleg, created_by: sam, on_behalf_of: oleg }]);
    expect((await system.behalf.behalf.audit.verify()).ok).toBe(true);
    const orders = new AuditRepository(system.orders.dataSource, 'orders_audit_event');
    expect(
      (
        await verifyChain('orders_audit_event', orders.stream(), [], async () => {
          throw new Error('no checkpoints expected');
        })
      ).ok,
    ).toBe(true);
  }, 120_000);

  it('refusals in the browser: no button for Vic, a clear page when he forces the entry URL, Bea not in Electronics', async () => {
    const electronics = (await system.behalf.behalf.stores.findBySlug('electronics'))!.id;
    const oleg = (await system.behalf.behalf.accounts.findByUsername(electronics, 'oleg@example.com'))!.id;

    const vicContext = await browser.newContext();
    const vic = await portalAs(vicContext, 'viewer@example.com', 'Support-Demo-2026');
    await openOleg(vic);
    expect(await vic.getByRole('link', { name: /Login on behalf/ }).count()).toBe(0);
    await snap(vic, 'vic-no-button');
    // Behalf knows it is Vic (signed in through the portal): refused before any form.
    await vic.goto(`${system.storefrontUrl}/electronics/on-behalf/start?customer=${oleg}`);
    await vic.getByText('You do not have permission to log in on behalf of customers of this store.').waitFor();
    expect(await vic.getByLabel('Password').count()).toBe(0);
    await snap(vic, 'vic-refused');
    await vicContext.close();

    const beaContext = await browser.newContext();
    const bea = await portalAs(beaContext, 'books-support@example.com', 'Support-Demo-2026');
    await openOleg(bea);
    const rows = bea.getByRole('row');
    expect(
      await rows
        .filter({ hasText: 'Electronics' })
        .getByRole('link', { name: /Login on behalf/ })
        .count(),
    ).toBe(0);
    expect(
      await rows
        .filter({ hasText: 'Books' })
        .getByRole('link', { name: /Login on behalf/ })
        .count(),
    ).toBe(1);
    await beaContext.close();

    // Wrong password and a missing reason are said on the screen.
    const other = await browser.newContext();
    const page = await other.newPage();
    await page.goto(`${system.storefrontUrl}/electronics/on-behalf/start?customer=${oleg}`);
    await page.getByLabel('Email').fill('support@example.com');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByLabel('Reason').fill('Checking');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('alert').filter({ hasText: 'Invalid email or password' }).waitFor();
    // The focus is on the field in error.
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('password');
    await page.getByLabel('Password').fill('Support-Demo-2026');
    await page.getByLabel('Reason').fill('');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('alert').filter({ hasText: 'Enter the reason' }).waitFor();
    // The right password is kept: only the reason is asked, and it has the focus.
    await page.getByText('Password confirmed. Add the reason to continue.').waitFor();
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('reason');
    await snap(page, 'reauth-missing-reason');
    expect(await page.title()).toMatch(/Login on behalf/);
    await other.close();
  }, 120_000);
});
