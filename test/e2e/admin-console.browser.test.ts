/**
 * The admin console in a real browser (Debian's Chromium driven by
 * playwright-core), as issue #17's "Done when" asks: Ada Admin signs in
 * through Behalf and, without typing any id, finds Sam Support's running
 * session by his name and ends it after confirming, revokes Bea Books'
 * Books permission, unlocks a locked customer, creates an integrator client
 * with a delegation rule, and finds each of these in the audit view in
 * words. Every page is checked at 375 px for sideways scrolling; the
 * screenshots in docs/admin/ (the README's) are taken here.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { inBrowser, launchBrowser, signInAtBehalf } from '../support/e2e.js';
import { customerId, exchange, onBehalfParams, reauthenticate } from '../support/on-behalf.js';
import { codeFlowTokens } from '../support/oauth.js';

/** The README's screenshots are refreshed with UPDATE_DOCS_SCREENSHOTS=1; other runs keep theirs under test-artifacts/. */
const DOCS = join(process.cwd(), ...(process.env.UPDATE_DOCS_SCREENSHOTS ? ['docs', 'admin'] : ['test-artifacts', 'e2e-admin-console']));

inBrowser('the admin console in a real browser', () => {
  let running: RunningBehalf;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(DOCS, { recursive: true });
    running = await startBehalf();
    // Sam Support is acting as Oleg Petrov at Electronics.
    const oleg = await customerId(running, 'electronics', 'oleg@example.com');
    const { actorToken } = await reauthenticate(running, { customer: oleg, reason: 'Parcel never arrived', ticket: 'SUP-42' });
    expect((await exchange(running, onBehalfParams(oleg, actorToken))).status).toBe(200);
    // Anna Smith locked herself out at Electronics (five wrong passwords).
    for (let i = 0; i < 5; i += 1) {
      await expect(
        codeFlowTokens(
          running.issuer,
          'storefront-electronics',
          'storefront-demo-secret',
          'http://localhost:4001/electronics/callback',
          'anna@example.com',
          `wrong-${i}-password`,
        ),
      ).rejects.toThrow();
    }
    browser = await launchBrowser();
    page = await (await browser.newContext()).newPage();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await running?.stop();
  });

  /** At 375 px nothing scrolls sideways; the README's screenshots are taken at 1280 px (and one at 375 px). */
  async function check(name: string, phoneShot = false): Promise<void> {
    await page.setViewportSize({ width: 375, height: 800 });
    expect(await page.$eval('html', (html) => html.scrollWidth)).toBeLessThanOrEqual(375);
    if (phoneShot) await page.screenshot({ path: join(DOCS, `${name}-375.png`), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: join(DOCS, `${name}.png`), fullPage: true });
  }

  const nav = (name: string) => page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name }).click();
  const flash = () => page.getByRole('status').first();

  it('signs in as Ada Admin through Behalf', async () => {
    await page.goto(`${running.issuer}/admin`);
    await signInAtBehalf(page, 'admin@example.com', 'Admin-Demo-2026');
    await page.getByRole('heading', { name: 'Admin console' }).waitFor();
    expect(await page.textContent('main')).toContain('1 on-behalf session is active now.');
    await check('home');
  }, 30_000);

  it('finds Sam Support’s running session by his name and ends it after a confirmation naming who', async () => {
    await nav('Sessions');
    await page.getByLabel('Agent (name or email)').fill('Sam Support');
    await page.getByRole('button', { name: 'Show' }).click();
    const row = page.getByRole('row').filter({ hasText: 'Oleg Petrov' });
    expect((await row.innerText()).replace(/\s+/g, ' ')).toMatch(
      /Sam Support support@example\.com Oleg Petrov oleg@example\.com Electronics Parcel never arrived Ticket SUP-42 .* UTC (59|60) min left Active/,
    );
    await check('sessions', true);

    await row.getByRole('link', { name: 'End all of Sam Support' }).click();
    expect(await page.textContent('main')).toContain('End the 1 active on-behalf session of Sam Support (support@example.com)?');
    await page.getByRole('link', { name: 'Cancel' }).click();

    await page
      .getByRole('row')
      .filter({ hasText: 'Oleg Petrov' })
      .getByRole('link', { name: /^End Sam Support’s session/ })
      .click();
    await page.getByText('End Sam Support’s session as Oleg Petrov at Electronics?').waitFor();
    await check('session-end-confirm');
    await page.getByRole('button', { name: 'End session' }).click();
    expect(await flash().textContent()).toBe('Ended Sam Support’s session as Oleg Petrov at Electronics.');
    expect(await page.textContent('main')).toContain('No sessions found.');
  }, 30_000);

  it('revokes Bea Books’ Books permission with a reason', async () => {
    await nav('People');
    await page.getByLabel('Name, email, phone or id').fill('Bea');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Bea Books' }).click();
    await page.getByRole('heading', { name: 'Bea Books' }).waitFor();
    await check('person', true);
    await page.getByLabel('Reason for revoking Books').fill('Moved to the Electronics team');
    await page.getByRole('button', { name: 'Revoke Books' }).click();
    expect(await flash().textContent()).toBe('Bea Books may no longer log in on behalf of customers at Books.');
    expect(await page.textContent('main')).toContain('Bea Books may not log in on behalf of anyone.');
  }, 30_000);

  it('unlocks a locked customer', async () => {
    await nav('People');
    await page.getByLabel('Name, email, phone or id').fill('anna@example.com');
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.getByRole('row').filter({ hasText: 'Anna Smith' });
    expect((await row.innerText()).replace(/\s+/g, ' ')).toBe('Anna Smith anna@example.com Electronics customer Locked');
    await check('people');
    await row.getByRole('link', { name: 'Anna Smith' }).click();
    await page.getByRole('button', { name: 'Unlock Anna Smith' }).click();
    expect(await flash().textContent()).toBe('Anna Smith is unlocked and can sign in again.');
  }, 30_000);

  it('creates an integrator client with a delegation rule; its secret is shown once', async () => {
    await nav('Clients');
    await page.getByRole('link', { name: 'New client' }).click();
    await page.getByLabel('Client id', { exact: true }).fill('acme-integrator');
    await page.getByLabel('Name', { exact: true }).fill('Acme Integrator');
    await page.getByLabel('Token exchange (login on behalf, delegation)').check();
    await page.getByLabel('Resources it may get tokens for (one per line)').fill('http://localhost:4003\nurn:behalf:demo:payments');
    await page.getByLabel(/^Delegation rules/).fill('http://localhost:4003 -> urn:behalf:demo:payments orders:read');
    await check('client-new');
    await page.getByRole('button', { name: 'Create client' }).click();
    await page.getByRole('heading', { name: 'Client Acme Integrator created' }).waitFor();
    expect(await page.textContent('main')).toMatch(/Client secret\s*[A-Za-z0-9_-]{20,}/);
    await page.getByRole('link', { name: 'Back to acme-integrator' }).click();
    expect(await page.getByLabel(/^Delegation rules/).inputValue()).toBe('http://localhost:4003 -> urn:behalf:demo:payments orders:read');
    await check('client-edit');
    await nav('Clients');
    await page.getByRole('row').filter({ hasText: 'Acme Integrator' }).waitFor();
    await check('clients', true);
  }, 30_000);

  it('finds each action in the audit view, in words; a bad filter is an error with focus on its field', async () => {
    await nav('Audit');
    const expectations: [string, RegExp][] = [
      ['Sam Support', /Ada Admin ended Sam Support’s session as Oleg Petrov \(ended by an admin\)/],
      [
        'Bea Books',
        /Ada Admin revoked Bea Books’s permission to log in on behalf of customers at Books — reason “Moved to the Electronics team”/,
      ],
      ['anna@example.com', /Ada Admin unlocked the account of Anna Smith/],
      ['Ada Admin', /Ada Admin created the service client Acme Integrator \(acme-integrator\)/],
    ];
    for (const [person, sentence] of expectations) {
      await page.getByLabel('Person (name or email)').fill(person);
      await page.getByRole('button', { name: 'Filter' }).click();
      expect(await page.locator('table').innerText()).toMatch(sentence);
    }
    await page.getByLabel('Person (name or email)').fill('Sam Support');
    await page.getByLabel('Type (e.g. on_behalf.* )').fill('on_behalf.*');
    await page.getByRole('button', { name: 'Filter' }).click();
    expect(await page.locator('table').innerText()).toMatch(
      /Sam Support started acting as Oleg Petrov at Electronics — reason “Parcel never arrived”, ticket SUP-42/,
    );
    await check('audit', true);

    await page.getByLabel('Person (name or email)').fill('nobody@example.com');
    await page.getByRole('button', { name: 'Filter' }).click();
    expect(await page.getByRole('alert').textContent()).toBe('person: no one is called or has the email “nobody@example.com”');
    expect(await page.locator('#person').evaluate((input) => input.ownerDocument.activeElement === input)).toBe(true);
    await page.getByRole('link', { name: 'Chain status and external checkpoints' }).click();
    await page.getByText('Intact.').waitFor();
    await check('audit-status');
  }, 30_000);
});
