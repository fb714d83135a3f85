/**
 * Self-registration per store (off by default) with the emailed email
 * verification: over real HTTP and real SMTP. A new customer cannot sign in
 * until the address is confirmed; an address that has an account already gets
 * the same answer and no new account.
 */
import * as client from 'openid-client';
import { HttpBrowser, type Page } from '../support/browser.js';
import { linkIn, startBehalfWithMail, type BehalfWithMail } from '../support/mail.js';
import { storefront } from '../support/on-behalf.js';
import { AccessPolicies } from '../../src/server/customers/access-policies.js';

let system: BehalfWithMail;
beforeAll(async () => {
  system = await startBehalfWithMail();
});
afterAll(async () => {
  await system?.stop();
});

async function signInPage(browser: HttpBrowser, store = 'electronics'): Promise<Page> {
  const config = await storefront(system.running, store);
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: `http://localhost:4001/${store}/callback`,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    state: client.randomState(),
  });
  return browser.follow(url.toString());
}

test('off by default: no link, and the page is refused', async () => {
  const browser = new HttpBrowser(system.running.issuer);
  const page = await signInPage(browser, 'books');
  expect(page.html).toContain('Forgot your password?');
  expect(page.html).not.toContain('Create an account');
  const uid = /\/interaction\/([^/]+)\/login/.exec(page.html)![1];
  expect((await browser.follow(`${system.running.issuer}/interaction/${uid}/register`)).status).toBe(404);
});

test('a store that allows it: register, confirm the address from the mail, then sign in', async () => {
  const { behalf } = system.running;
  const store = await behalf.stores.findBySlug('electronics');
  await new AccessPolicies(behalf.dataSource, behalf.audit).setStorePolicy(
    store!.id,
    { selfRegistration: true },
    { type: 'admin.store.access_policy_changed', actor: 'test', subject: null, clientId: null },
  );
  const browser = new HttpBrowser(system.running.issuer);
  const page = await signInPage(browser);
  const link = /href="(\/interaction\/[^"]+\/register)"/.exec(page.html);
  expect(link).not.toBeNull();
  const form = await browser.follow(`${system.running.issuer}${link![1]}`);
  const done = await browser.submit(form, '/register', { name: 'Nina <New>', email: 'nina@example.com', password: 'Nina-Password-2027' });
  expect(done.status).toBe(200);
  expect(done.html).toContain('Check your email');

  // The same answer for an address that has an account already; no second account, no mail.
  const again = await browser.submit(await browser.follow(`${system.running.issuer}${link![1]}`), '/register', {
    name: 'Oleg',
    email: 'oleg@example.com',
    password: 'Another-Password-2027',
  });
  expect(again.html.replace(/\/interaction\/[^"]+/g, '')).toBe(done.html.replace(/\/interaction\/[^"]+/g, ''));

  const mail = await system.catcher.waitFor((m) => m.to.includes('nina@example.com'));
  expect(mail.html).toContain('Hello Nina &lt;New&gt;');
  const verify = linkIn(mail, `${system.running.issuer}/verify-email/`);

  // Not before the address is confirmed.
  const early = await browser.submit(await signInPage(browser), '/login', { email: 'nina@example.com', password: 'Nina-Password-2027' });
  expect(early.html).toContain('Confirm your email address first');

  expect((await browser.follow(verify)).status).toBe(200);
  expect((await browser.follow(verify)).status).toBe(400);
  const signedIn = await browser.submit(await signInPage(browser), '/login', { email: 'nina@example.com', password: 'Nina-Password-2027' });
  expect(signedIn.url).toContain('http://localhost:4001/electronics/callback');

  const events = (await behalf.dataSource.query(
    `SELECT type, details FROM audit_event WHERE type IN ('auth.registered', 'auth.email_verified') ORDER BY seq`,
  )) as {
    type: string;
    details: { outcome?: string };
  }[];
  expect(events.map((e) => `${e.type}:${e.details.outcome ?? ''}`)).toEqual([
    'auth.registered:created',
    'auth.registered:already_registered',
    'auth.email_verified:',
  ]);
});
