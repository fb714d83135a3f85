/**
 * The admin console over HTTP: signed in through Behalf as the built-in
 * admin-console client, its own sealed cookie, CSRF on every POST, the admin
 * role checked by the API behind it, a second factor when configured, errors
 * focused on their field, and the CSV export.
 */
import { HttpBrowser, type Page } from '../support/browser.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { STAFF } from '../support/staff.js';
import { customerId, exchange, onBehalfParams, reauthenticate, staffId } from '../support/on-behalf.js';

let running: RunningBehalf;

beforeAll(async () => {
  running = await startBehalf();
});
afterAll(async () => {
  await running?.stop();
});

async function signIn(target: RunningBehalf, who: keyof typeof STAFF): Promise<{ browser: HttpBrowser; page: Page }> {
  const browser = new HttpBrowser(target.issuer);
  const login = await browser.follow(`${target.issuer}/console/`);
  expect(login.url).toContain('/interaction/');
  const page = await browser.submit(login, '/login', { email: STAFF[who].email, password: STAFF[who].password });
  return { browser, page };
}

describe('signing in', () => {
  it('signs an admin in through Behalf and keeps the session in a sealed cookie of its own name, scoped to /console', async () => {
    const browser = new HttpBrowser(running.issuer);
    const first = await browser.request(`${running.issuer}/console/people`);
    expect(first.status).toBe(302);
    const authorize = new URL(first.headers.get('location')!);
    expect(authorize.searchParams.get('client_id')).toBe('admin-console');
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${running.issuer}/console/callback`);
    expect(first.headers.getSetCookie().join('\n')).toMatch(
      /behalf\.console\.login=[^;]+; path=\/console; expires=[^;]+; samesite=lax; httponly/,
    );

    const login = await browser.follow(authorize.toString());
    const page = await browser.submit(login, '/login', { email: STAFF.ada.email, password: STAFF.ada.password });
    expect(page.status).toBe(200);
    expect(page.url).toBe(`${running.issuer}/console/people`);
    expect(page.html).toContain('<h1>People</h1>');
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'.*script-src 'self'/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const event = (await running.behalf.audit.events.query({ type: 'auth.login.succeeded', clientId: 'admin-console', limit: 1 }))
      .events[0];
    expect(event).toBeDefined();
  });

  it('sends /admin in a browser to the console', async () => {
    const response = await fetch(`${running.issuer}/admin`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/console/');
  });

  it('refuses staff without the admin role: the admin API behind the console says no', async () => {
    const { page } = await signIn(running, 'sam');
    expect(page.status).toBe(403);
    expect(page.html).toContain('Admins only');
  });

  it('refuses a sign-in without a second factor when security.requireSecondFactorForAdminConsole is on', async () => {
    const strict = await startBehalf({ overrides: { security: { requireSecondFactorForAdminConsole: true } } });
    try {
      const { page } = await signIn(strict, 'ada');
      expect(page.status).toBe(400);
      expect(page.html).toContain('The admin console needs a second factor');
    } finally {
      await strict.stop();
    }
  }, 30_000);

  it('treats a tampered or foreign session cookie as no session', async () => {
    const response = await fetch(`${running.issuer}/console/people`, {
      redirect: 'manual',
      headers: { cookie: 'behalf.console=eyJhbGciOiJkaXIifQ..x.y.z; behalf.console.sig=forged' },
    });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toContain('/auth?');
  });
});

describe('forms and filters', () => {
  let ada: { browser: HttpBrowser; page: Page };
  beforeAll(async () => {
    ada = await signIn(running, 'ada');
  });

  it('refuses a POST without the CSRF token', async () => {
    const response = await ada.browser.request(`${running.issuer}/console/people`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=eve%40example.com&name=Eve&roles=admin',
    });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('Form expired');
    expect(await running.behalf.accounts.findByUsername(null, 'eve@example.com')).toBeUndefined();
  });

  it('creates a staff member through the form, showing the password once', async () => {
    const form = await ada.browser.follow(`${running.issuer}/console/people/new`);
    const created = await ada.browser.submit(form, '/console/people', { email: 'dee@example.com', name: 'Dee Desk', roles: 'support' });
    expect(created.status).toBe(200);
    expect(created.html).toContain('Dee Desk can sign in');
    expect(created.html).toMatch(/Temporary password<\/dt><dd><code>[A-Za-z0-9_-]{24}<\/code>/);
    expect(created.headers.get('cache-control')).toBe('no-store');
  });

  it('shows a bad filter as an error, with focus on the field in error', async () => {
    const page = await ada.browser.follow(`${running.issuer}/console/sessions?customer=nobody%40example.com`);
    expect(page.status).toBe(400);
    expect(page.html).toContain('customer: no one is called or has the email “nobody@example.com”');
    expect(page.html).toMatch(/<input id="customer"[^>]* autofocus aria-invalid="true" aria-describedby="form-error">/);
    const audit = await ada.browser.follow(`${running.issuer}/console/audit?from=2026-02-01T00:00&to=2026-01-01T00:00`);
    expect(audit.status).toBe(400);
    expect(audit.html).toMatch(/<input id="from"[^>]* autofocus aria-invalid="true"/);
    // Event types and clients are suggested, so nobody needs to know them by heart.
    expect(audit.html).toMatch(/<input id="client"[^>]* list="client-choices"/);
    expect(audit.html).toContain('<option value="portal">Behalf Portal</option>');
    expect(audit.html).toContain('<option value="on_behalf.started"></option>');
  });

  it('exports the filtered events as CSV with their descriptions, spreadsheet formulas defused', async () => {
    const form = await ada.browser.follow(`${running.issuer}/console/people/new`);
    await ada.browser.submit(form, '/console/people', {
      email: 'formula@example.com',
      name: '=HYPERLINK("http://evil")',
      roles: 'support',
    });
    const response = await ada.browser.request(`${running.issuer}/console/audit/export.csv?person=Ada%20Admin&type=admin.*`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(/attachment; filename="behalf-audit-\d{4}-\d\d-\d\d\.csv"/);
    const [header, ...rows] = (await response.text()).trim().split('\r\n');
    expect(header).toBe('seq,occurred_at,type,description,actor,actor_name,subject,subject_name,client_id,session_id,ip,details');
    expect(rows.some((row) => row.includes('Ada Admin created the account of Dee Desk (support)'))).toBe(true);
    expect(rows.some((row) => row.includes(`,"'=HYPERLINK(""http://evil"")",`))).toBe(true);
  });

  it('creates a client, edits its policies (a merge patch) and rotates its secret, each through the admin API', async () => {
    const form = await ada.browser.follow(`${running.issuer}/console/clients/new`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(form.html)![1]!;
    const post = (path: string, fields: [string, string][]) =>
      ada.browser.follow(`${running.issuer}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams([['csrf', csrf], ...fields]),
      });
    const base: [string, string][] = [
      ['client_name', 'Reports'],
      ['client_kind', 'service'],
      ['grant_types', 'client_credentials'],
      ['grant_types', 'urn:ietf:params:oauth:grant-type:token-exchange'],
      ['allowed_resources', 'http://localhost:4003\nurn:behalf:demo:payments'],
    ];
    const bad = await post('/console/clients', [['client_id', 'reports'], ...base, ['delegation', 'nonsense']]);
    expect(bad.status).toBe(400);
    expect(bad.html).toMatch(/<textarea id="delegation"[^>]* autofocus aria-invalid="true"/);
    const created = await post('/console/clients', [['client_id', 'reports'], ...base]);
    expect(created.html).toMatch(/Client secret<\/dt><dd><code>[A-Za-z0-9_-]{20,}<\/code>/);

    const edited = await post('/console/clients/reports', [
      ...base,
      ['default_resource', 'http://localhost:4003'],
      ['delegation', 'http://localhost:4003 -> urn:behalf:demo:payments orders:read'],
      ['may_act', 'orders-api'],
    ]);
    expect(edited.html).toContain('Saved the policies of Reports.');
    const client = (await running.behalf.clients.findForProvider('reports')) as Record<string, unknown>;
    expect(client).toMatchObject({
      default_resource: 'http://localhost:4003',
      may_act: 'orders-api',
      delegation: [{ from: 'http://localhost:4003', to: 'urn:behalf:demo:payments', scope: 'orders:read' }],
    });
    const emptied = await post('/console/clients/reports', base);
    expect(emptied.html).toContain('Saved the policies of Reports.');
    expect(await running.behalf.clients.findForProvider('reports')).not.toHaveProperty('may_act');

    const rotated = await post('/console/clients/reports/secret', [['grace_hours', '1']]);
    expect(rotated.html).toMatch(/New client secret<\/dt><dd><code>[A-Za-z0-9_-]{20,}<\/code>/);
    const types = (await running.behalf.audit.events.query({ clientId: 'reports', type: 'admin.client.*' })).events.map(
      (event) => event.type,
    );
    expect(types).toEqual(['admin.client.secret_rotated', 'admin.client.updated', 'admin.client.updated', 'admin.client.created']);
  });

  it('ends all of an agent’s sessions after a confirmation that names who and how many', async () => {
    for (const email of ['oleg@example.com', 'anna@example.com']) {
      const customer = await customerId(running, 'electronics', email);
      const { actorToken } = await reauthenticate(running, { customer, reason: `Help ${email}` });
      expect((await exchange(running, onBehalfParams(customer, actorToken))).status).toBe(200);
    }
    const sam = await staffId(running, 'support@example.com');
    const confirm = await ada.browser.follow(`${running.issuer}/console/agents/${sam}/end-all?return_to=/console/sessions`);
    expect(confirm.html).toContain('End all 2 active on-behalf sessions of Sam Support (support@example.com)?');
    expect(confirm.html).toContain('As Oleg Petrov at Electronics, since');
    const done = await ada.browser.submit(confirm, `/console/agents/${sam}/end-all`, {});
    expect(done.url).toBe(`${running.issuer}/console/sessions`);
    expect(done.html).toContain('Ended 2 sessions of Sam Support; their re-authentications are revoked.');
    expect(await running.behalf.onBehalf.list({ agentId: sam, active: true })).toEqual([]);
  });

  it('signs out through Behalf (RP-initiated logout) and forgets the console session', async () => {
    const { browser, page } = await signIn(running, 'ada');
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.html)![1]!;
    const out = await browser.request(`${running.issuer}/console/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf }),
    });
    expect(out.status).toBe(302);
    const endSession = new URL(out.headers.get('location')!);
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${running.issuer}/console/signed-out`);
    expect(out.headers.getSetCookie().join('\n')).toMatch(/behalf\.console=;/);
    expect((await browser.request(`${running.issuer}/console/people`)).status).toBe(302);
  });
});
