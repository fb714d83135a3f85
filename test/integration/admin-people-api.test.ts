/**
 * The admin API over people (search, create staff, disable/enable, unlock, TOTP reset,
 * loginOnBehalf per store with a reason) and the name/email filters of the session
 * and audit APIs: admin role only, validated, every change audited.
 */
import { decodeJwt } from 'jose';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { customerId, exchange, onBehalfParams, reauthenticate, staffId } from '../support/on-behalf.js';
import { portalToken } from '../support/staff.js';

let running: RunningBehalf;
let ada: string;
let adaId: string;

beforeAll(async () => {
  running = await startBehalf();
  ada = await portalToken(running.issuer, 'ada', 'openid profile');
  adaId = await staffId(running, 'admin@example.com');
});
afterAll(async () => {
  await running?.stop();
});

interface PersonJson {
  id: string;
  name: string;
  email: string | null;
  store: { name: string } | null;
  permissions: { store: { name: string } }[];
  status: string;
}

/** The answers this test reads (each call fills some of these). */
interface Answer {
  [key: string]: unknown;
  people: PersonJson[];
  person: PersonJson;
  sessions: { id: string }[];
  events: Record<string, unknown>[];
  error_description: string;
  password: string;
  recovery_codes: string[];
  otpauth_uri: string;
  changed: boolean;
  status: string;
}

async function call(path: string, init: { method?: string; body?: unknown; token?: string } = {}) {
  const response = await fetch(`${running.issuer}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${init.token ?? ada}`,
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(init.body !== undefined ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Answer };
}

async function lastEvent(type: string) {
  return (await running.behalf.audit.events.query({ type, limit: 1 })).events[0];
}

describe('GET /admin/people', () => {
  it('finds staff and customers by name, email, phone and id, with stores and roles', async () => {
    const byName = await call('/admin/people?q=oleg');
    expect(byName.status).toBe(200);
    expect(byName.body.people.map((p) => [p.name, p.store?.name])).toEqual([
      ['Oleg Petrov', 'Books'],
      ['Oleg Petrov', 'Electronics'],
    ]);
    const byPhone = await call('/admin/people?q=555%200101');
    expect(byPhone.body.people.map((p) => p.email)).toEqual(['anna@example.com']);
    const byEmail = await call('/admin/people?q=books-support@example.com');
    expect(byEmail.body.people).toEqual([
      expect.objectContaining({ name: 'Bea Books', kind: 'staff', roles: ['support'], status: 'active', store: null }),
    ]);
    const byId = await call(`/admin/people?q=${adaId}`);
    expect(byId.body.people.map((p) => p.name)).toEqual(['Ada Admin']);
    expect((await call('/admin/people?q=50%25_off')).body.people).toEqual([]);
  });

  it('shows one person with permissions by store name', async () => {
    const bea = await staffId(running, 'books-support@example.com');
    const { status, body } = await call(`/admin/people/${bea}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ name: 'Bea Books', second_factor: false, active_sessions: 0 });
    expect(body.permissions).toEqual([
      expect.objectContaining({ permission: 'security:loginOnBehalf', store: expect.objectContaining({ name: 'Books' }) }),
    ]);
    expect((await call('/admin/people/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await call('/admin/people/not-an-id')).status).toBe(404);
  });

  it('is for admins only (RFC 6750 challenges) and validates its input', async () => {
    expect((await fetch(`${running.issuer}/admin/people`)).status).toBe(401);
    const sam = await portalToken(running.issuer, 'sam', 'openid profile');
    const refused = await call('/admin/people', { token: sam });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('insufficient_scope');
    expect((await call('/admin/people?kind=robots')).status).toBe(400);
    expect((await call('/admin/people?limit=0')).status).toBe(400);
    expect((await call('/admin/people', { method: 'POST', token: sam, body: {} })).status).toBe(403);
  });
});

describe('changing people', () => {
  it('creates a staff member with a password shown once, audited; refuses duplicates and bad input', async () => {
    const created = await call('/admin/people', {
      method: 'POST',
      body: { email: 'Cal@Example.com', name: 'Cal Care', roles: ['support'] },
    });
    expect(created.status).toBe(201);
    expect(created.body.person).toMatchObject({ name: 'Cal Care', email: 'cal@example.com', kind: 'staff', roles: ['support'] });
    expect(created.body.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(await lastEvent('admin.account.created')).toMatchObject({ actor: adaId, subject: created.body.person.id });
    const again = await call('/admin/people', { method: 'POST', body: { email: 'cal@example.com', name: 'Cal', roles: ['support'] } });
    expect(again.status).toBe(409);
    for (const body of [
      { email: 'nope', name: 'X', roles: ['support'] },
      { email: 'x@example.com', name: '', roles: ['support'] },
      { email: 'x@example.com', name: 'X', roles: ['customer'] },
      { email: 'x@example.com', name: 'X', roles: ['support'], password: 'short' },
    ]) {
      const refused = await call('/admin/people', { method: 'POST', body });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('invalid_request');
    }
    // Two admins creating the same person at once: one account, and a 409 (not a 500) for the other.
    const racing = await Promise.all(
      [1, 2, 3].map(() => call('/admin/people', { method: 'POST', body: { email: 'twin@example.com', name: 'Twin', roles: ['support'] } })),
    );
    expect(racing.map((answer) => answer.status).sort()).toEqual([201, 409, 409]);
    expect((await call('/admin/people', { method: 'POST', body: '{"email":' })).status).toBe(400);
    expect((await call('/admin/people', { method: 'POST', body: '[1]' })).status).toBe(400);
  });

  it('disables and enables with a reason, unlocks a locked customer, each audited', async () => {
    const anna = await customerId(running, 'electronics', 'anna@example.com');
    const disabled = await call(`/admin/people/${anna}/disable`, { method: 'POST', body: { reason: 'Fraud check' } });
    expect(disabled.body).toMatchObject({ changed: true, person: { status: 'disabled' } });
    expect(await lastEvent('admin.account.disabled')).toMatchObject({ actor: adaId, subject: anna, details: { reason: 'Fraud check' } });
    expect((await call(`/admin/people/${anna}/enable`, { method: 'POST' })).body.person.status).toBe('active');

    await running.behalf.dataSource.query(
      `UPDATE account SET locked_until = now() + interval '10 minutes', failed_login_count = 0 WHERE id = $1`,
      [anna],
    );
    expect((await call(`/admin/people/${anna}`)).body.status).toBe('locked');
    const unlocked = await call(`/admin/people/${anna}/unlock`, { method: 'POST', body: {} });
    expect(unlocked.body).toMatchObject({ changed: true, person: { status: 'active', locked_until: null } });
    expect(await lastEvent('admin.account.unlocked')).toMatchObject({ actor: adaId, subject: anna });
    expect((await call(`/admin/people/${anna}/unlock`, { method: 'POST' })).body.changed).toBe(false);
    expect((await call(`/admin/people/${adaId}/disable`, { method: 'POST' })).status).toBe(400);
    expect((await call(`/admin/people/${anna}/disable`, { method: 'POST', body: { reason: 42 } })).status).toBe(400);
  });

  it('resets and removes a staff member’s TOTP, never a customer’s', async () => {
    const vic = await staffId(running, 'viewer@example.com');
    const reset = await call(`/admin/people/${vic}/totp/reset`, { method: 'POST' });
    expect(reset.status).toBe(200);
    expect(reset.body.otpauth_uri).toMatch(/^otpauth:\/\/totp\//);
    expect(reset.body.recovery_codes).toHaveLength(10);
    expect(await lastEvent('admin.account.totp_enrolled')).toMatchObject({ subject: vic });
    const removed = await call(`/admin/people/${vic}/totp`, { method: 'DELETE' });
    expect(removed.body).toMatchObject({ changed: true, person: { second_factor: false } });
    expect(await lastEvent('admin.account.totp_disabled')).toMatchObject({ subject: vic });
    const oleg = await customerId(running, 'books', 'oleg@example.com');
    expect((await call(`/admin/people/${oleg}/totp/reset`, { method: 'POST' })).status).toBe(400);
  });

  it('grants and revokes loginOnBehalf per store with a reason, audited with the store', async () => {
    const vic = await staffId(running, 'viewer@example.com');
    const path = `/admin/people/${vic}/permissions/security:loginOnBehalf/stores/books`;
    expect((await call(path, { method: 'PUT', body: {} })).status).toBe(400);
    const granted = await call(path, { method: 'PUT', body: { reason: 'Joined the Books team' } });
    expect(granted.body.changed).toBe(true);
    expect(granted.body.person.permissions.map((p) => p.store.name)).toEqual(['Books']);
    const grantEvent = await lastEvent('admin.permission.granted');
    expect(grantEvent).toMatchObject({ actor: adaId, subject: vic, details: { store: 'Books', reason: 'Joined the Books team' } });
    const revoked = await call(path, { method: 'DELETE', body: { reason: 'Left the team' } });
    expect(revoked.body).toMatchObject({ changed: true, person: { permissions: [] } });
    expect(await lastEvent('admin.permission.revoked')).toMatchObject({ subject: vic, details: { reason: 'Left the team' } });
    expect(
      (await call(`/admin/people/${vic}/permissions/security:loginOnBehalf/stores/nowhere`, { method: 'PUT', body: { reason: 'x' } }))
        .status,
    ).toBe(400);
    expect((await call(`/admin/people/${vic}/permissions/root/stores/books`, { method: 'PUT', body: { reason: 'x' } })).status).toBe(400);
    const oleg = await customerId(running, 'books', 'oleg@example.com');
    expect(
      (await call(`/admin/people/${oleg}/permissions/security:loginOnBehalf/stores/books`, { method: 'PUT', body: { reason: 'x' } }))
        .status,
    ).toBe(400);
  });
});

describe('filters by name or email', () => {
  it('finds sessions by the agent’s name and the customer’s email; unknown or ambiguous is a 400 that says so', async () => {
    const oleg = await customerId(running, 'electronics', 'oleg@example.com');
    const { actorToken } = await reauthenticate(running, { customer: oleg, ticket: 'SUP-9' });
    const response = await exchange(running, onBehalfParams(oleg, actorToken));
    const session = String(decodeJwt(String(response.body.access_token)).obo_sid);

    const bySam = await call('/admin/on-behalf/sessions?agent=Sam%20Support&active=true');
    expect(bySam.status).toBe(200);
    expect(bySam.body.sessions.map((s) => s.id)).toEqual([session]);
    expect(bySam.body.sessions[0]).toMatchObject({
      agent: { name: 'Sam Support' },
      customer: { name: 'Oleg Petrov', store: { name: 'Electronics' } },
    });
    expect((await call('/admin/on-behalf/sessions?customer=oleg@example.com&store=electronics')).body.sessions).toHaveLength(1);
    expect((await call(`/admin/on-behalf/sessions/${session}`)).body).toMatchObject({ id: session, ticket: 'SUP-9' });

    const unknown = await call('/admin/on-behalf/sessions?agent=nobody@example.com');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error_description).toMatch(/no one is called or has the email “nobody@example.com”/);
    const ambiguous = await call('/admin/on-behalf/sessions?agent=Ama');
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.body.error_description).toMatch(
      /^agent: “Ama” could be 10 people, among them Ama Garcia .*; give an email or choose one$/,
    );
    expect((await call('/admin/on-behalf/sessions?store=atlantis')).status).toBe(400);

    const events = await call('/admin/audit/events?person=support@example.com&type=on_behalf.started');
    expect(events.status).toBe(200);
    expect(events.body.events[0]).toMatchObject({
      session_id: session,
      actor_person: { name: 'Sam Support' },
      subject_person: { name: 'Oleg Petrov', store: 'Electronics' },
      description: 'Sam Support started acting as Oleg Petrov at Electronics — reason “Customer cannot complete checkout”, ticket SUP-9',
    });
    expect((await call('/admin/audit/events?actor=Sam%20Support&type=on_behalf.*')).body.events.length).toBeGreaterThan(0);
  });

  it('audit filters that name nobody are errors, never an empty page', async () => {
    for (const [query, message] of [
      ['person=nobody@example.com', /no one is called/],
      ['subject=Zed%20Nobody', /no one is called/],
      ['client=no-such-client', /no client/],
      ['session=00000000-0000-4000-8000-000000000000', /no event belongs/],
      ['from=2026-02-01&to=2026-01-01', /from must be before to/],
    ] as const) {
      const { status, body } = await call(`/admin/audit/events?${query}`);
      expect(status).toBe(400);
      expect(body.error_description).toMatch(message);
    }
  });
});
