/**
 * Customers in control, in a real browser, through the embedded mail catcher
 * (a real SMTP listener on port 0): Oleg chooses "only after I approve"; Sam
 * asks from the portal and waits on a page that updates itself; Oleg approves
 * from the link in the email; Sam acts and ends; Oleg receives the summary and
 * reports it ("this wasn't me"), which the admins see. Then a denied and an
 * expired request, and a password reset by emailed link. Screenshots go to
 * test-artifacts/customer-approval/.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startMailCatcher, type MailCatcher, type CaughtMail } from '../../src/server/mail/catcher.js';
import { inBrowser, launchBrowser, openContact, portalAs, screenshots, signInAtBehalf } from '../support/e2e.js';
import { Reports } from '../../src/server/customers/reports.js';
import { startSystem, type RunningSystem } from '../support/system.js';

inBrowser('Customers in control, in a real browser', () => {
  let system: RunningSystem;
  let catcher: MailCatcher;
  let browser: Browser;
  let customer: BrowserContext;
  let oleg: Page;
  const { snap } = screenshots('customer-approval');

  beforeAll(async () => {
    catcher = await startMailCatcher();
    system = await startSystem({
      behalf: { mail: { enabled: true, smtpUrl: catcher.smtpUrl, pollIntervalSeconds: 0.2, retryBaseSeconds: 0.5 } },
    });
    // The mails link into the store's pages: this run's storefront.
    for (const slug of ['electronics', 'books'])
      await system.behalf.behalf.dataSource.query(`UPDATE store SET base_url = $1 WHERE slug = $2`, [
        `${system.storefrontUrl}/${slug}`,
        slug,
      ]);
    browser = await launchBrowser();
    customer = await browser.newContext();
    oleg = await customer.newPage();
    await oleg.goto(`${system.storefrontUrl}/electronics/`);
    await oleg.getByRole('link', { name: 'Sign in' }).first().click();
    await signInAtBehalf(oleg, 'oleg@example.com', 'Customer-Demo-2026');
    await oleg.waitForURL(`${system.storefrontUrl}/electronics/**`);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await system?.stop();
    await catcher?.close();
  });

  const mailTo = (to: string, subject: string, seen: Set<string>) =>
    catcher.waitFor((m: CaughtMail) => m.to.includes(to) && m.subject.includes(subject) && !seen.has(m.id), 20_000);
  const seenIds = () => new Set(catcher.messages().map((m) => m.id));
  const link = (mail: CaughtMail, prefix: string) => mail.text.split(/\s+/).find((word) => word.startsWith(prefix))!;

  /** Sam starts Login on behalf of Oleg from the portal and confirms; returns the storefront tab, now waiting. */
  async function samAsks(agent: BrowserContext, reason: string): Promise<Page> {
    const portal = agent.pages()[0] ?? (await portalAs(agent, system.portalUrl, 'support@example.com', 'Support-Demo-2026'));
    await openContact(portal, system.portalUrl, 'Oleg Petrov');
    const row = portal.getByRole('row').filter({ hasText: 'Electronics' });
    const [shop] = await Promise.all([agent.waitForEvent('page'), row.getByRole('link', { name: /Login on behalf/ }).click()]);
    await shop.waitForLoadState();
    await shop.getByText('This customer’s approval is needed').waitFor();
    await shop.getByLabel('Password').fill('Support-Demo-2026');
    await shop.getByLabel('Reason').fill(reason);
    await shop.getByRole('button', { name: 'Confirm' }).click();
    await shop.getByRole('heading', { name: 'Waiting for the customer’s approval' }).waitFor();
    return shop;
  }

  it('Oleg asks to be asked; Sam waits; Oleg approves from the email; Sam acts and ends; Oleg gets the summary and reports it', async () => {
    await oleg.goto(`${system.storefrontUrl}/electronics/account`);
    await oleg.getByRole('link', { name: 'Support access' }).click();
    await oleg.getByLabel('Only after I approve each time').check();
    await oleg.getByRole('button', { name: 'Save' }).click();
    await oleg.getByText('Saved: Only after I approve each time.').waitFor();
    await snap(oleg, 'oleg-sets-after-approval');

    const agent = await browser.newContext();
    await portalAs(agent, system.portalUrl, 'support@example.com', 'Support-Demo-2026');
    const seen = seenIds();
    const shop = await samAsks(agent, 'Customer cannot complete checkout');
    await snap(shop, 'sam-waits');

    const request = await mailTo('oleg@example.com', 'asks to act for you', seen);
    expect(request.text).toContain('Customer cannot complete checkout');
    await oleg.goto(link(request, `${system.storefrontUrl}/electronics/account/approvals/`));
    await oleg.getByText('Support agent Sam Support asks to sign in to your account').waitFor();
    await snap(oleg, 'oleg-sees-request');
    await oleg.getByLabel('Approve').selectOption('session');
    await oleg.getByRole('button', { name: 'Approve' }).click();
    await oleg.getByText('You approved Sam Support (for this session only).').waitFor();

    // Sam's waiting page updates itself, and the storefront opens on Oleg's behalf.
    const banner = shop.getByRole('status').filter({ hasText: 'is acting as' });
    await banner.waitFor({ timeout: 20_000 });
    expect((await banner.textContent())!.replace(/\s+/g, ' ')).toContain('Support agent Sam Support is acting as Oleg Petrov');
    await snap(shop, 'sam-acts');
    const seenBeforeEnd = seenIds();
    await banner.getByRole('button', { name: 'End session' }).click();
    await shop.getByText('The on-behalf session has ended').waitFor();
    await agent.close();

    const summary = await mailTo('oleg@example.com', 'acted on your account', seenBeforeEnd);
    expect(summary.text).toContain('Why: Customer cannot complete checkout');
    await oleg.goto(link(summary, `${system.storefrontUrl}/electronics/account/history/`));
    await oleg.getByRole('heading', { name: 'This wasn’t me' }).waitFor();
    await oleg.getByLabel(/What happened/).fill('I did not ask for help');
    await snap(oleg, 'oleg-reports');
    await oleg.getByRole('button', { name: 'Report this session' }).click();
    await oleg.getByText('The store’s administrators have your report').waitFor();

    // What the admins' GET /admin/reports lists (tested over HTTP in test/integration/customer-approval.test.ts).
    const reports = await new Reports(system.behalf.behalf.dataSource, system.behalf.behalf.audit).list();
    expect(reports[0]).toMatchObject({
      comment: 'I did not ask for help',
      customer: { name: 'Oleg Petrov' },
      agent: { name: 'Sam Support' },
    });
  }, 150_000);

  it('a denied request and an expired one: Sam is told on his waiting page', async () => {
    const agent = await browser.newContext();
    await portalAs(agent, system.portalUrl, 'support@example.com', 'Support-Demo-2026');
    const denied = await samAsks(agent, 'Second try');
    await oleg.goto(`${system.storefrontUrl}/electronics/account/access`);
    await oleg.getByRole('link', { name: /Support agent Sam Support/ }).click();
    await oleg.getByRole('button', { name: 'Deny' }).click();
    await oleg.getByText('You denied the request of Sam Support.').waitFor();
    await denied.getByText('The customer denied your request').waitFor({ timeout: 20_000 });
    await snap(denied, 'sam-denied');

    const expiring = await samAsks(agent, 'Third try');
    await system.behalf.behalf.dataSource.query(
      `UPDATE on_behalf_approval SET expires_at = now() - interval '1 second' WHERE status = 'pending' AND reason = 'Third try'`,
    );
    await expiring.getByText('did not answer your request in time').waitFor({ timeout: 20_000 });
    await snap(expiring, 'sam-expired');
    await agent.close();
  }, 120_000);

  it('a password reset by emailed link', async () => {
    const anna = await (await browser.newContext()).newPage();
    await anna.goto(`${system.storefrontUrl}/electronics/`);
    await anna.getByRole('link', { name: 'Sign in' }).first().click();
    await anna.getByRole('link', { name: 'Forgot your password?' }).click();
    await anna.getByLabel('Email').fill('anna@example.com');
    const seen = seenIds();
    await anna.getByRole('button', { name: 'Send the link' }).click();
    await anna.getByRole('heading', { name: 'Check your email' }).waitFor();
    const mail = await mailTo('anna@example.com', 'Reset', seen);
    await anna.goto(link(mail, `${system.behalf.issuer}/password-reset/`));
    await anna.getByLabel('New password', { exact: true }).fill('Anna-New-Password-2027');
    await anna.getByLabel('New password again').fill('Anna-New-Password-2027');
    await snap(anna, 'anna-new-password');
    await anna.getByRole('button', { name: 'Change my password' }).click();
    await anna.getByRole('heading', { name: 'Your password was changed' }).waitFor();

    await anna.goto(`${system.storefrontUrl}/electronics/`);
    await anna.getByRole('link', { name: 'Sign in' }).first().click();
    await signInAtBehalf(anna, 'anna@example.com', 'Anna-New-Password-2027');
    await anna.waitForURL(`${system.storefrontUrl}/electronics/**`);
    expect(await anna.textContent('body')).toContain('Anna');
  }, 90_000);
});
