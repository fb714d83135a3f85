/**
 * The re-authentication screen as a support agent meets it: an agent signed
 * in to Behalf is named and asked only for the password, reason and ticket;
 * errors focus and describe their field; only failed attempts count toward
 * the sign-in limit, and the throttled page has a way out; the per-agent
 * session limit is refused before the form, with a link to the agent's
 * sessions. (Agent's journey issue, items 1–3.)
 */
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { HttpBrowser, type Page } from '../support/browser.js';
import { portalLoginPage } from '../support/oauth.js';
import { customerId, exchange, onBehalfParams, openReauth, reauthenticate } from '../support/on-behalf.js';

const SESSIONS_URL = 'http://portal.test:4002/my-sessions';

let running: RunningBehalf;
let oleg: string;
let anna: string;

beforeAll(async () => {
  running = await startBehalf({
    overrides: {
      onBehalf: { maxConcurrentSessions: 2, agentSessionsUrl: SESSIONS_URL },
      rateLimits: { signInPerAccount: { points: 3, durationSeconds: 300 } },
    },
  });
  oleg = await customerId(running, 'electronics', 'oleg@example.com');
  anna = await customerId(running, 'electronics', 'anna@example.com');
});
afterAll(async () => {
  await running?.stop();
});

/** A browser signed in to Behalf (through the portal's sign-in), as an agent's is. */
async function signedInBrowser(email: string, password: string): Promise<HttpBrowser> {
  const browser = new HttpBrowser(running.issuer);
  const login = await portalLoginPage(running.issuer, browser);
  const done = await browser.submit(login, '/login', { email, password });
  expect(done.url.startsWith('http://localhost:4002/callback')).toBe(true);
  return browser;
}

async function completeReauth(browser: HttpBrowser, page: Page, fields: Record<string, string>) {
  const done = await browser.submit(page, '/reauth', fields);
  if (!done.url.includes('/callback'))
    throw new Error(
      `ended at ${done.url} (${done.status}): ${done.html
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .slice(0, 600)}`,
    );
  return done;
}

describe('an agent already signed in to Behalf', () => {
  it('is named on the screen and asked only for the password, the reason and the ticket', async () => {
    const browser = await signedInBrowser('support@example.com', 'Support-Demo-2026');
    const { page } = await openReauth(running, { customer: anna, browser });
    expect(page.html).toContain('Confirming as <strong>Sam Support</strong> (support@example.com)');
    expect(page.html).toContain('>Not you?</a>');
    expect(page.html).not.toContain('name="email"');
    expect(page.html).toMatch(/<input id="password"[^>]* autofocus>/);
    await completeReauth(browser, page, { password: 'Support-Demo-2026', reason: 'Named on the screen' });
  });

  it('after a wrong password: the message is tied to the password field, which has the focus; reason and ticket are kept', async () => {
    const browser = await signedInBrowser('support@example.com', 'Support-Demo-2026');
    const { page } = await openReauth(running, { customer: anna, browser });
    const again = await browser.submit(page, '/reauth', { password: 'wrong-password', reason: 'Kept reason', ticket: 'SUP-5' });
    expect(again.html).toContain('That password is not right.');
    expect(again.html).toMatch(/<input id="password"[^>]* autofocus aria-invalid="true" aria-describedby="form-error">/);
    expect(again.html).toContain('value="Kept reason"');
    expect(again.html).toContain('value="SUP-5"');
  });

  it('without the permission: refused before the form, with "Not you?" for whoever is at the keyboard', async () => {
    const browser = await signedInBrowser('viewer@example.com', 'Support-Demo-2026');
    const { page } = await openReauth(running, { customer: anna, browser });
    expect(page.status).toBe(403);
    expect(page.html).toContain('You do not have permission to log in on behalf of customers of this store.');
    expect(page.html).not.toContain('name="password"');
    const other = await browser.follow(new URL(/href="([^"]*\?other=1)"/.exec(page.html)![1]!, running.issuer).toString());
    expect(other.html).toContain('name="email"');
    expect(other.html).toMatch(/<input id="email"[^>]* autofocus>/);
    expect(other.html).not.toContain('Confirming as');
    // Another account confirming signs the browser's earlier one out first (oidc-provider posts its logout).
    const switching = await browser.submit(other, '/reauth', {
      email: 'support@example.com',
      password: 'Support-Demo-2026',
      reason: 'Sam at Vic’s desk',
    });
    expect(switching.html).toContain('Submitting Callback');
    const done = await browser.submit(switching, '/session/end/confirm', {});
    expect(done.url).toContain('/callback');
    const [latest] = (await running.behalf.dataSource.query(
      `SELECT a.username FROM on_behalf_reauth r JOIN account a ON a.id = r.agent_account_id ORDER BY r.created_at DESC LIMIT 1`,
    )) as { username: string }[];
    expect(latest!.username).toBe('support@example.com');
  });
});

describe('the sign-in limit on the screen', () => {
  it('counts failures only: successful re-authentications do not use it up', async () => {
    // Three attempts per account name in this configuration; five successes in a row pass.
    const olegAtBooks = await customerId(running, 'books', 'oleg@example.com');
    for (let i = 0; i < 5; i += 1)
      await reauthenticate(running, {
        store: 'books',
        customer: olegAtBooks,
        email: 'books-support@example.com',
        password: 'Support-Demo-2026',
      });
  });

  it('throttled: says until when, and offers Cancel back to the store', async () => {
    const { page, browser } = await openReauth(running, { customer: anna });
    let current = page;
    for (let i = 0; i < 3; i += 1)
      current = await browser.submit(current, '/reauth', { email: 'admin@example.com', password: `guess-${i}`, reason: 'Guessing' });
    const throttled = await browser.submit(current, '/reauth', {
      email: 'admin@example.com',
      password: 'Admin-Demo-2026',
      reason: 'Guessing',
    });
    expect(throttled.status).toBe(429);
    expect(throttled.html).toMatch(/Wait \d+ seconds \(until \d\d:\d\d:\d\d UTC\), then try again\./);
    expect(throttled.html).toContain('>Try again</a>');
    const back = await browser.submit(throttled, '/abort', {});
    expect(back.url.startsWith('http://localhost:4001/electronics/callback?error=access_denied')).toBe(true);
  });
});

describe('the per-agent session limit', () => {
  it('is refused before the form when the agent is known, with a link to the agent’s sessions', async () => {
    const browser = await signedInBrowser('support@example.com', 'Support-Demo-2026');
    for (const customer of [oleg, anna]) {
      const { actorToken } = await reauthenticate(running, { customer, reason: 'Filling the limit' });
      expect((await exchange(running, onBehalfParams(customer, actorToken))).status).toBe(200);
    }
    const { page } = await openReauth(running, { customer: oleg, browser });
    expect(page.status).toBe(403);
    expect(page.html).toContain('You already have as many on-behalf sessions running as allowed.');
    expect(page.html).toContain(`<a href="${SESSIONS_URL}">See and end your on-behalf sessions</a>`);
    expect(page.html).not.toContain('name="password"');
    const denied = (await running.behalf.audit.events.query({ type: 'on_behalf.denied', subject: oleg })).events[0];
    expect(denied).toMatchObject({ details: { reason: 'session_limit', stage: 'reauthentication' } });
    // "Back to the store" tells the storefront it was refused, and why: not a cancellation.
    const back = await browser.submit(page, '/abort', {});
    const params = new URL(back.url).searchParams;
    expect(params.get('error')).toBe('access_denied');
    expect(params.get('error_description')).toMatch(
      /^Login on behalf refused: You already have as many on-behalf sessions running as allowed\./,
    );
  });
});
