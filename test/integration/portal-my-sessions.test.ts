/**
 * The portal's "My on-behalf sessions" and the contact page's notices, against
 * a real Behalf over HTTP: an agent sees and ends only their own sessions
 * (through Behalf's agent API), the contact page says when the agent already
 * acts as the customer and why "Login on behalf" is missing, and signing out
 * says so.
 */
import { decodeJwt } from 'jose';
import { createPortal, type Portal } from '../../src/demo/portal/app.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { MultiOriginBrowser, linksNamed, type Page } from '../support/multi-origin-browser.js';
import { customerId, exchange, onBehalfParams, reauthenticate, staffId } from '../support/on-behalf.js';
import { STAFF } from '../support/staff.js';

const PORTAL = 'http://localhost:4002';

let running: RunningBehalf;
let portal: Portal;
let portalOrigin: string;
let sam: string;
let olegElectronics: string;
let olegBooks: string;
const unexpected: unknown[] = [];

beforeAll(async () => {
  running = await startBehalf({ overrides: { onBehalf: { maxConcurrentSessions: 2 } } });
  portal = createPortal({
    issuer: running.issuer,
    publicUrl: PORTAL,
    storefrontUrl: 'http://localhost:4001',
    cookieKeys: ['portal-test-cookie-key-0123456789abcdef'],
    onError: (error) => unexpected.push(error),
  });
  portalOrigin = (await portal.listen(0)).url;
  [sam, olegElectronics, olegBooks] = await Promise.all([
    staffId(running, 'support@example.com'),
    customerId(running, 'electronics', 'oleg@example.com'),
    customerId(running, 'books', 'oleg@example.com'),
  ]);
});
afterAll(async () => {
  await portal?.close();
  await running?.stop();
});
afterEach(async () => {
  expect(unexpected).toEqual([]);
  // Every test starts with no open session (the limit here is 2).
  for (const agent of [sam, await staffId(running, 'books-support@example.com')])
    await running.behalf.onBehalf.endAgentSessions(agent, 'test', 'ended_by_admin');
});

async function signIn(who: keyof typeof STAFF): Promise<{ browser: MultiOriginBrowser; page: Page }> {
  const browser = new MultiOriginBrowser({ [PORTAL]: portalOrigin, [running.issuer]: running.issuer });
  const login = await browser.follow(`${PORTAL}/login`);
  const page = await browser.submit(login, '/login', STAFF[who]);
  expect(page.url).toBe(`${PORTAL}/contacts`);
  return { browser, page };
}

async function openSession(options: {
  customer: string;
  store?: string;
  email?: string;
  reason?: string;
  ticket?: string;
}): Promise<string> {
  const { actorToken } = await reauthenticate(running, options);
  const response = await exchange(running, onBehalfParams(options.customer, actorToken), options.store);
  expect(response.status).toBe(200);
  return String(decodeJwt(String(response.body.access_token)).obo_sid);
}

async function olegPage(browser: MultiOriginBrowser): Promise<Page> {
  const [href] = linksNamed(await browser.follow(`${PORTAL}/contacts?q=Oleg`), 'Oleg Petrov');
  return browser.follow(`${PORTAL}${href}`);
}

/** The text of the table row of one session, tags removed. */
function sessionRow(page: Page, id: string): string {
  const row = new RegExp(`<tr data-session="${id}">([\\s\\S]*?)</tr>`).exec(page.html);
  return row
    ? row[1]!
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim()
    : '';
}

it('shows "My on-behalf sessions" to agents and admins, not to staff without the permission', async () => {
  expect(linksNamed((await signIn('sam')).page, 'My on-behalf sessions')).toEqual(['/my-sessions']);
  expect(linksNamed((await signIn('ada')).page, 'My on-behalf sessions')).toEqual(['/my-sessions']);
  expect(linksNamed((await signIn('vic')).page, 'My on-behalf sessions')).toEqual([]);
});

it('lists the agent’s own open sessions by customer name, ends one with CSRF, and lists it as ended', async () => {
  const mine = await openSession({ customer: olegElectronics, reason: 'Checkout fails', ticket: 'T-9001' });
  const second = await openSession({ customer: olegBooks, store: 'books' });
  const beas = await openSession({ customer: olegBooks, store: 'books', email: 'books-support@example.com', reason: 'Bea’s own case' });
  const { browser } = await signIn('sam');

  const page = await browser.follow(`${PORTAL}/my-sessions`);
  expect(page.status).toBe(200);
  expect(page.html).toContain('<title>My on-behalf sessions · Behalf Portal</title>');
  expect(page.html).toContain('You have 2 of 2 on-behalf sessions open: that is the limit, so end one before you start another.');
  const row = sessionRow(page, mine);
  expect(row).toMatch(
    /^Oleg Petrov oleg@example\.com Electronics Checkout fails T-9001 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC (59|60) min left End the session as Oleg Petrov at Electronics/,
  );
  expect(sessionRow(page, second)).toContain('Books');
  expect(page.html).not.toContain(beas);
  expect(page.html).not.toContain('Bea’s own case');
  expect(page.html).not.toContain(olegElectronics);

  // A POST without the form's CSRF token changes nothing.
  const forged = await browser.follow(`${PORTAL}/my-sessions/${mine}/end`, {
    method: 'POST',
    body: 'csrf=forged',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  expect(forged.status).toBe(403);
  expect(await running.behalf.onBehalf.session(mine)).toMatchObject({ endedAt: null });

  const ended = await browser.submit(page, `/my-sessions/${mine}/end`);
  expect(ended.url).toBe(`${PORTAL}/my-sessions`);
  expect(ended.html).toMatch(
    /You ended your on-behalf session as Oleg Petrov \(oleg@example\.com\) at Electronics \(started [^)]+ UTC\)\. Its tokens stop working within seconds\./,
  );
  expect(await running.behalf.onBehalf.session(mine)).toMatchObject({ endedBy: sam, endReason: 'ended_by_agent' });
  expect(ended.html).toContain('You have 1 of 2 on-behalf sessions open.');
  expect(sessionRow(ended, mine)).toMatch(/ended \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: ended by the agent$/);
  expect(ended.html).not.toContain(`action="/my-sessions/${mine}/end"`);

  // The admins' list names people too, rather than showing account ids.
  const ada = await signIn('ada');
  const all = await ada.browser.follow(`${PORTAL}/sessions?agent=${sam}`);
  expect(sessionRow(all, second)).toMatch(
    /Sam Support support@example\.com Filter by Sam Support Oleg Petrov oleg@example\.com Filter by Oleg Petrov/,
  );
});

it('does not end another agent’s session (404 page), nor take a made-up id', async () => {
  const beas = await openSession({ customer: olegBooks, store: 'books', email: 'books-support@example.com' });
  const { browser } = await signIn('sam');
  const page = await browser.follow(`${PORTAL}/my-sessions`);
  // Sam's own page's form, pointed at Bea's session.
  const forged = page.html.replace(
    '<h1>',
    `<form method="post" action="/my-sessions/${beas}/end"><input type="hidden" name="csrf" value="${/name="csrf" value="([^"]+)"/.exec(page.html)![1]}"></form><h1>`,
  );
  const refused = await browser.submit({ ...page, html: forged }, `/my-sessions/${beas}/end`);
  expect(refused.status).toBe(404);
  expect(refused.html).toContain('no such on-behalf session of yours');
  expect(await running.behalf.onBehalf.session(beas)).toMatchObject({ endedAt: null });
  const bad = await browser.submit({ ...page, html: forged.replaceAll(beas, 'not-a-session') }, '/my-sessions/not-a-session/end');
  expect(bad.status).toBe(404);
});

it('says on the contact page that the agent already acts as the customer, and why there is no button', async () => {
  await openSession({ customer: olegElectronics });
  const started = (await running.behalf.onBehalf.list({ agentId: sam, active: true }))[0]!.startedAt.toISOString().slice(11, 16);
  const { browser } = await signIn('sam');
  const page = await olegPage(browser);
  expect(page.html).toMatch(
    new RegExp(
      `You are acting as this customer at Electronics in another tab — started ${started} UTC, (59|60) min left\\. <a href="/my-sessions">My on-behalf sessions</a>`,
    ),
  );
  expect(page.html.match(/You are acting as this customer/g)).toHaveLength(1);

  // Bea may act at Books only: the Electronics row says why not.
  const bea = await signIn('bea');
  const beaPage = await olegPage(bea.browser);
  expect(beaPage.html).not.toContain('You are acting as this customer');
  expect(beaPage.html).toMatch(
    /<th scope="row">Electronics<\/th>[\s\S]*?No login on behalf: <\/span>No permission for Electronics<\/span>/,
  );
  expect(beaPage.html).not.toMatch(/<th scope="row">Books<\/th>[\s\S]*?No permission for Books/);

  // A disabled account: the reason is the account, not the agent's permission.
  await running.behalf.accounts.setStatus(olegBooks, 'disabled');
  try {
    const disabled = await olegPage(browser);
    expect(disabled.html).toMatch(/<th scope="row">Books<\/th>[\s\S]*?No login on behalf: <\/span>Account disabled<\/span>/);
  } finally {
    await running.behalf.accounts.setStatus(olegBooks, 'active');
  }
});

it('says "You have signed out" on the page the agent lands on after signing out', async () => {
  const { browser, page } = await signIn('sam');
  const confirm = await browser.submit(page, '/logout');
  const home = await browser.submit(confirm, '/session/end/confirm', { logout: 'yes' });
  expect(home.url).toBe(`${PORTAL}/`);
  expect(home.html).toContain('<p class="flash" role="status">You have signed out of the portal.</p>');
  expect(linksNamed(home, 'Sign in')).toEqual(['/login']);
  // Said once only.
  expect((await browser.follow(`${PORTAL}/`)).html).not.toContain('You have signed out');
});
