/**
 * The agent's own sessions in a real browser (Debian's Chromium driven by
 * playwright-core): Sam logs in on behalf of Oleg from the portal, the
 * contact page then says he already acts as Oleg, "My on-behalf sessions"
 * lists the session and ends it, the storefront tab learns it has ended, and
 * signing out of the portal says so. Screenshots at 1280 and 375 px go to
 * test-artifacts/e2e-portal/ (they are how the tables' Actions cells were
 * checked). Skipped without a Chromium, saying how to install one.
 */
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { inBrowser, launchBrowser, portalAs as portalSignIn, screenshots } from '../support/e2e.js';
import { startSystem, type RunningSystem } from '../support/system.js';

const WIDTHS = [1280, 375] as const;

inBrowser('My on-behalf sessions in a real browser', () => {
  let system: RunningSystem;
  let browser: Browser;
  const ARTIFACTS = screenshots('e2e-portal').dir;

  beforeAll(async () => {
    system = await startSystem();
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await system?.stop();
  });

  /** Full-page screenshots at a desktop and a phone width; the page is left at the desktop width. */
  async function snap(page: Page, name: string): Promise<void> {
    for (const width of [...WIDTHS].reverse()) {
      await page.setViewportSize({ width, height: 800 });
      // Wide tables scroll inside their box: the page itself never gets wider than the window.
      expect(await page.$eval('html', (html) => html.scrollWidth)).toBeLessThanOrEqual(width);
      await page.screenshot({ path: join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
    }
  }

  const portalAs = (context: BrowserContext, email: string, password: string) => portalSignIn(context, system.portalUrl, email, password);

  async function openOleg(page: Page): Promise<void> {
    await page.goto(`${system.portalUrl}/contacts?q=Oleg`);
    await page.getByRole('link', { name: 'Oleg Petrov' }).click();
    await page.getByRole('heading', { name: 'Oleg Petrov' }).waitFor();
  }

  /** No cell of a table may stick out of its row: a flex <td> did, and offset the row's borders. */
  async function expectCellsInRows(page: Page): Promise<void> {
    const offsets = await page.$$eval('tbody tr', (rows) =>
      rows.flatMap((row) => {
        const box = row.getBoundingClientRect();
        return [...row.children].map((cell) => {
          const own = cell.getBoundingClientRect();
          return Math.abs(own.top - box.top) + Math.abs(own.bottom - box.bottom);
        });
      }),
    );
    expect(offsets.length).toBeGreaterThan(0);
    expect(Math.max(...offsets)).toBeLessThan(1);
  }

  it('the agent sees the open session on the contact page and in My on-behalf sessions, ends it, and signs out', async () => {
    const agent = await browser.newContext();
    const portal = await portalAs(agent, 'support@example.com', 'Support-Demo-2026');
    await openOleg(portal);

    const row = portal.getByRole('row').filter({ hasText: 'Electronics' });
    const [shop] = await Promise.all([agent.waitForEvent('page'), row.getByRole('link', { name: /Login on behalf/ }).click()]);
    await shop.getByText('Confirm it is you to sign in as').waitFor();
    // Behalf may already know the agent from the portal's sign-in ("Confirming as Sam Support"): then it asks no email.
    if (await shop.getByLabel('Email').count()) await shop.getByLabel('Email').fill('support@example.com');
    await shop.getByLabel('Password').fill('Support-Demo-2026');
    await shop.getByLabel('Reason').fill('Parcel never arrived');
    await shop.getByLabel(/Ticket id/).fill('SUP-777');
    await shop.getByRole('button', { name: 'Confirm' }).click();
    await shop.getByRole('status').filter({ hasText: 'is acting as' }).waitFor();

    await openOleg(portal);
    const notice = portal.getByText('You are acting as this customer at Electronics in another tab');
    await notice.waitFor();
    expect(await notice.textContent()).toMatch(/started \d\d:\d\d UTC, (59|60) min left\. My on-behalf sessions$/);
    await expectCellsInRows(portal);
    await snap(portal, 'contact-open-session');

    await portal.getByRole('link', { name: 'My on-behalf sessions' }).first().click();
    await portal.getByRole('heading', { name: 'My on-behalf sessions' }).waitFor();
    const session = portal.getByRole('row').filter({ hasText: 'Oleg Petrov' });
    expect((await session.innerText()).replace(/\s+/g, ' ')).toMatch(
      /Oleg Petrov oleg@example\.com Electronics Parcel never arrived SUP-777 .* UTC (59|60) min left/,
    );
    await expectCellsInRows(portal);
    await snap(portal, 'my-sessions-open');

    await session.getByRole('button', { name: /^End/ }).click();
    await portal.getByText('You ended your on-behalf session as Oleg Petrov (oleg@example.com) at Electronics').waitFor();
    await snap(portal, 'my-sessions-ended');

    // The storefront tab learns of the end at its next request (its status cache is 1 s here).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await shop.goto(`${system.storefrontUrl}/electronics/`);
    expect(await shop.textContent('main')).toMatch(/ended/i);
    await shop.close();

    await portal.getByRole('button', { name: 'Sign out' }).click();
    await portal.getByRole('button', { name: 'Sign out' }).click();
    await portal.waitForURL(`${system.portalUrl}/`);
    await portal.getByText('You have signed out of the portal.').waitFor();
    await snap(portal, 'signed-out');
    await agent.close();
  }, 60_000);

  it('a staff member without the permission sees why there is no button; an admin’s session table keeps its borders', async () => {
    const beaContext = await browser.newContext();
    const bea = await portalAs(beaContext, 'books-support@example.com', 'Support-Demo-2026');
    await openOleg(bea);
    await bea.getByText('No permission for Electronics').waitFor();
    await expectCellsInRows(bea);
    await snap(bea, 'contact-no-permission');
    await beaContext.close();

    const adaContext = await browser.newContext();
    const ada = await portalAs(adaContext, 'admin@example.com', 'Admin-Demo-2026');
    await ada.goto(`${system.portalUrl}/sessions`);
    await ada.getByRole('heading', { name: 'On-behalf sessions' }).waitFor();
    await expectCellsInRows(ada);
    await snap(ada, 'admin-sessions');
    await adaContext.close();
  }, 60_000);
});
