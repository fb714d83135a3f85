/**
 * The portal against a real Behalf, over HTTP, across both origins: sign-in,
 * contact search, the Login on behalf links each staff member may see, the
 * admin pages (sessions, audit, export), CSRF, sign-out.
 */
import { decodeJwt } from 'jose';
import { createPortal, type Portal } from '../../src/demo/portal/app.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { MultiOriginBrowser, linksNamed, type Page } from '../support/multi-origin-browser.js';
import { customerId, exchange, onBehalfParams, reauthenticate, staffId } from '../support/on-behalf.js';
import { STAFF } from '../support/staff.js';

const PORTAL = 'http://localhost:4002';
const STOREFRONT = 'http://localhost:4001';

let running: RunningBehalf;
let portal: Portal;
let portalOrigin: string;
const unexpected: unknown[] = [];

beforeAll(async () => {
  running = await startBehalf({ overrides: { onBehalf: { maxConcurrentSessions: 10 } } });
  // The portal client's registered redirect URI is http://localhost:4002/callback: that is the public URL, served on a random port.
  portal = createPortal({
    issuer: running.issuer,
    publicUrl: PORTAL,
    storefrontUrl: STOREFRONT,
    cookieKeys: ['portal-test-cookie-key-0123456789abcdef'],
    onError: (error) => unexpected.push(error),
  });
  portalOrigin = (await portal.listen(0)).url;
});
afterAll(async () => {
  await portal?.close();
  await running?.stop();
});
afterEach(() => {
  expect(unexpected).toEqual([]);
});

function browser(): MultiOriginBrowser {
  return new MultiOriginBrowser({ [PORTAL]: portalOrigin, [running.issuer]: running.issuer });
}

async function signIn(who: keyof typeof STAFF): Promise<{ browser: MultiOriginBrowser; page: Page }> {
  const b = browser();
  const home = await b.follow(`${PORTAL}/`);
  expect(linksNamed(home, 'Sign in')).toEqual(['/login']);
  const login = await b.follow(`${PORTAL}/login`);
  expect(login.url.startsWith(`${running.issuer}/interaction/`)).toBe(true);
  const page = await b.submit(login, '/login', STAFF[who]);
  expect(page.url).toBe(`${PORTAL}/contacts`);
  expect(page.status).toBe(200);
  return { browser: b, page };
}

async function olegPage(b: MultiOriginBrowser): Promise<Page> {
  const results = await b.follow(`${PORTAL}/contacts?q=Oleg`);
  expect(results.status).toBe(200);
  const [href] = linksNamed(results, 'Oleg Petrov');
  expect(href).toMatch(/^\/contacts\/[0-9a-f-]{36}$/);
  const page = await b.follow(`${PORTAL}${href}`);
  expect(page.status).toBe(200);
  expect(page.html).toContain('<title>Oleg Petrov · Behalf Portal</title>');
  return page;
}

async function expectedLink(store: string): Promise<string> {
  return `${STOREFRONT}/${store}/on-behalf/start?customer=${await customerId(running, store, 'oleg@example.com')}`;
}

describe('signed out', () => {
  it('sends visitors of inner pages to sign in, and keeps its cookies to itself', async () => {
    const b = browser();
    const response = await b.request(`${PORTAL}/contacts?q=oleg`);
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/login?return_to=%2Fcontacts%3Fq%3Doleg');
    const login = await b.request(`${PORTAL}/login`);
    const cookie = login.headers.getSetCookie().find((line) => line.startsWith('portal.sid='))!;
    expect(cookie).toMatch(/httponly/i);
    expect(cookie).toMatch(/samesite=lax/i);
    expect(login.headers.getSetCookie().some((line) => line.startsWith('portal.sid.sig='))).toBe(true);
    expect(new URL(login.headers.get('location')!).searchParams.get('scope')).toBe('openid profile email directory:read');
  });

  it('serves pages with a strict CSP, a title and a skip link', async () => {
    const response = await browser().request(`${PORTAL}/`);
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('script-src');
    const html = await response.text();
    expect(html).toContain('<title>Home · Behalf Portal</title>');
    expect(html).toContain('<a class="skip-link" href="#main">Skip to main content</a>');
    expect(html).not.toMatch(/<script/i);
  });

  it('refuses a callback it did not start', async () => {
    const page = await browser().follow(`${PORTAL}/callback?code=x&state=y`);
    expect(page.status).toBe(400);
    expect(page.html).toContain('Sign-in did not complete');
  });
});

describe('support staff', () => {
  it('Sam finds Oleg and may log in on behalf at Electronics and Books', async () => {
    const { browser: b, page } = await signIn('sam');
    expect(page.html).toContain('Signed in as <strong>Sam Support</strong>');
    expect(linksNamed(page, 'On-behalf sessions')).toEqual([]);
    const oleg = await olegPage(b);
    expect(linksNamed(oleg, 'Login on behalf').sort()).toEqual([await expectedLink('books'), await expectedLink('electronics')].sort());
    // Each opens a new tab, without giving the storefront a handle on the portal's window.
    expect(oleg.html.match(/<a class="button" href="[^"]+" target="_blank" rel="noopener">Login on behalf/g)).toHaveLength(2);
    expect(oleg.html).toMatch(
      /<th scope="row">Electronics<\/th>\s*<td>oleg@example.com<\/td>\s*<td><span class="status status-active">active<\/span>/,
    );
  });

  it('Bea may log in on behalf at Books only; Vic nowhere', async () => {
    const bea = await signIn('bea');
    expect(linksNamed(await olegPage(bea.browser), 'Login on behalf')).toEqual([await expectedLink('books')]);
    const vic = await signIn('vic');
    expect(linksNamed(await olegPage(vic.browser), 'Login on behalf')).toEqual([]);
  });

  it('searches by phone, filters by store and status, and pages', async () => {
    const { browser: b } = await signIn('sam');
    expect(linksNamed(await b.follow(`${PORTAL}/contacts?q=5550100`), 'Oleg Petrov')).toHaveLength(1);
    const books = await b.follow(`${PORTAL}/contacts?store=books&status=active&page=2`);
    expect(books.html).toMatch(/Showing 21–40 of 181 contacts\./);
    expect(books.html).toContain('<option value="books" selected>Books</option>');
    expect(linksNamed(books, 'Previous page')).toEqual(['/contacts?store=books&status=active&page=1']);
    expect(linksNamed(books, 'Next page')).toEqual(['/contacts?store=books&status=active&page=3']);
    const escaped = await b.follow(`${PORTAL}/contacts?q=${encodeURIComponent('<script>alert(1)</script>')}`);
    expect(escaped.html).not.toContain('<script>');
    expect(escaped.html).toContain('&lt;script&gt;');
    const tooLong = await b.follow(`${PORTAL}/contacts?q=${'x'.repeat(300)}`);
    expect(tooLong.status).toBe(400);
    expect(tooLong.html).toContain('at most 200 characters');
  });

  it('signs in again through Behalf’s session when Behalf stops accepting its token, and does not loop', async () => {
    const { browser: b } = await signIn('sam');
    const sam = await staffId(running, 'support@example.com');
    // Behalf forgets the portal's access tokens (as after a revocation); Behalf's own browser session lives on.
    const forget = () =>
      running.behalf.dataSource.query(
        `DELETE FROM oidc_payload WHERE model = 'AccessToken' AND payload->>'accountId' = $1 AND payload->>'clientId' = 'portal'`,
        [sam],
      );
    await forget();
    const refused = await b.request(`${PORTAL}/contacts?q=oleg`);
    expect(refused.status).toBe(302);
    expect(refused.headers.get('location')).toBe('/login?return_to=%2Fcontacts%3Fq%3Doleg');
    // No password asked: straight back to the page with a new token.
    const page = await b.follow(`${PORTAL}/login?return_to=%2Fcontacts%3Fq%3Doleg`);
    expect(page.url).toBe(`${PORTAL}/contacts?q=oleg`);
    expect(linksNamed(page, 'Oleg Petrov')).toHaveLength(1);
    // Refused again right after that retry: a page that says so, not an endless round of redirects.
    await forget();
    const stopped = await b.follow(`${PORTAL}/contacts?q=oleg`);
    expect(stopped.status).toBe(401);
    expect(stopped.html).toContain('Sign-in not accepted');
  });

  it('gets 403 pages for the admin pages', async () => {
    const { browser: b } = await signIn('vic');
    for (const path of ['/sessions', '/audit', '/audit/export']) {
      const page = await b.follow(`${PORTAL}${path}`);
      expect(page.status).toBe(403);
      expect(page.html).toContain('This page is for administrators.');
    }
  });
});

describe('admins', () => {
  let oleg: string;
  let sam: string;

  beforeAll(async () => {
    oleg = await customerId(running, 'electronics', 'oleg@example.com');
    sam = await staffId(running, 'support@example.com');
  });

  async function openSession(): Promise<string> {
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    const response = await exchange(running, onBehalfParams(oleg, actorToken));
    expect(response.status).toBe(200);
    return String(decodeJwt(String(response.body.access_token)).obo_sid);
  }

  it('Ada sees the admin pages, may not log in on behalf, and ends a session', async () => {
    const { browser: b, page } = await signIn('ada');
    expect(linksNamed(page, 'On-behalf sessions')).toEqual(['/sessions']);
    expect(linksNamed(page, 'Audit')).toEqual(['/audit']);
    expect(linksNamed(await olegPage(b), 'Login on behalf')).toEqual([]);

    const id = await openSession();
    const list = await b.follow(`${PORTAL}/sessions?state=active&agent=${sam}`);
    expect(list.status).toBe(200);
    expect(list.html).toContain(`data-session="${id}"`);
    const ended = await b.submit(list, `/sessions/${id}/end`);
    expect(ended.url).toBe(`${PORTAL}/sessions?state=active&agent=${sam}`);
    expect(ended.html).toContain('The on-behalf session has ended');
    expect(ended.html).not.toContain(`data-session="${id}"`);
    const ada = await staffId(running, 'admin@example.com');
    expect(await running.behalf.onBehalf.session(id)).toMatchObject({ endedBy: ada, endReason: 'ended_by_admin' });

    const second = await openSession();
    // By name: the kill switch is offered for the one agent every listed session has.
    const all = await b.submit(await b.follow(`${PORTAL}/sessions?agent=Sam%20Support`), `/agents/${sam}/end-all`);
    expect(all.html).toContain('Ended 1 session of this agent.');
    expect(await running.behalf.onBehalf.session(second)).toMatchObject({ endReason: 'kill_switch' });
    const past = await b.follow(`${PORTAL}/sessions?state=ended&customer=${oleg}`);
    expect(past.html).toContain(`data-session="${id}"`);
    expect(past.html).toContain('ended by an admin');
  });

  it('shows the audit trail, its chain status, pages and exports it', async () => {
    const { browser: b } = await signIn('ada');
    const audit = await b.follow(`${PORTAL}/audit?type=auth.*`);
    expect(audit.status).toBe(200);
    expect(audit.html).toContain('<strong>Intact.</strong> audit chain intact');
    expect(audit.html).toContain('<code>auth.login.succeeded</code>');
    // More than a page of one type, then page back through it by next_before.
    for (let i = 0; i < 55; i += 1)
      await running.behalf.audit.record({ type: 'admin.client.updated', actor: 'portal-test', details: { n: i } });
    const first = await b.follow(`${PORTAL}/audit?type=admin.client.updated`);
    expect(first.html.match(/<code>admin\.client\.updated<\/code>/g)).toHaveLength(50);
    const [older] = linksNamed(first, 'Older events');
    expect(older).toMatch(/^\/audit\?type=admin\.client\.updated&before=q\d+$/);
    const second = await b.follow(`${PORTAL}${older}`);
    expect(second.html.match(/<code>admin\.client\.updated<\/code>/g)).toHaveLength(5);
    expect(linksNamed(second, 'Older events')).toEqual([]);
    expect(linksNamed(second, 'Newest events')).toEqual(['/audit?type=admin.client.updated']);
    const bad = await b.follow(`${PORTAL}/audit?type=DROP%20TABLE`);
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('type must be an event name');

    const exported = await b.request(`${PORTAL}/audit/export`);
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    expect(exported.headers.get('content-disposition')).toMatch(/attachment; filename="behalf-audit-/);
    const lines = (await exported.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(2);
  });

  it('refuses a POST without its CSRF token (403)', async () => {
    const { browser: b } = await signIn('ada');
    const id = await openSession();
    for (const [path, body] of [
      [`/sessions/${id}/end`, ''],
      [`/agents/${sam}/end-all`, 'csrf=forged'],
      ['/logout', ''],
    ] as const) {
      const page = await b.follow(`${PORTAL}${path}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(page.status).toBe(403);
      expect(page.html).toContain('This form has expired');
    }
    expect(await running.behalf.onBehalf.session(id)).toMatchObject({ endedAt: null });
  });
});

describe('signing out', () => {
  it('ends the portal session and the Behalf session (RP-initiated logout)', async () => {
    const { browser: b, page } = await signIn('sam');
    const confirm = await b.submit(page, '/logout');
    expect(confirm.url.startsWith(`${running.issuer}/session/end`)).toBe(true);
    const home = await b.submit(confirm, '/session/end/confirm', { logout: 'yes' });
    expect(home.url).toBe(`${PORTAL}/`);
    expect(linksNamed(home, 'Sign in')).toEqual(['/login']);
    // Signed out of Behalf too: signing in again asks for credentials.
    const again = await b.follow(`${PORTAL}/contacts`);
    expect(again.url.startsWith(`${running.issuer}/interaction/`)).toBe(true);
    expect(again.html).toContain('name="password"');
  });
});
