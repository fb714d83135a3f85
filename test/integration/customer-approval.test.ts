/**
 * The customer in control of login on behalf, over real HTTP and real SMTP:
 * the customer's access policy (within the store's), the agent waiting on a
 * self-updating page while the customer approves or denies (or lets the
 * request expire), and the token exchange refusing a session that needs an
 * approval it does not have. Every step is audited.
 */
import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import { HttpBrowser, type Page } from '../support/browser.js';
import { linkIn, startBehalfWithMail, type BehalfWithMail } from '../support/mail.js';
import { basic, customerTokens, postForm } from '../support/oauth.js';
import { customerId, exchange, onBehalfParams, openReauth, reauthenticate } from '../support/on-behalf.js';
import { portalToken } from '../support/staff.js';

let system: BehalfWithMail;
let issuer: string;
let oleg: string;
let olegToken: string;

beforeAll(async () => {
  system = await startBehalfWithMail();
  issuer = system.running.issuer;
  oleg = await customerId(system.running, 'electronics', 'oleg@example.com');
  olegToken = (await customerTokens(issuer)).access_token;
});
afterAll(async () => {
  await system?.stop();
});

async function api(path: string, token: string, method = 'GET', body?: unknown) {
  const response = await fetch(`${issuer}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const setPolicy = (policy: string) => api('/account/access-policy', olegToken, 'PUT', { policy });

async function audit(type: string): Promise<{ actor: string | null; subject: string | null; details: Record<string, unknown> }[]> {
  return (await system.running.behalf.dataSource.query(`SELECT actor, subject, details FROM audit_event WHERE type = $1 ORDER BY qid`, [
    type,
  ])) as { actor: string | null; subject: string | null; details: Record<string, unknown> }[];
}

/** The agent confirms on the re-auth screen; returns the page they land on, and how to finish the code flow. */
async function agentConfirms(reason: string) {
  const flow = await openReauth({ issuer }, { customer: oleg });
  const page = await flow.browser.submit(flow.page, '/reauth', {
    email: 'support@example.com',
    password: 'Support-Demo-2026',
    reason,
  });
  const uid = /\/interaction\/([^/]+)\//.exec(flow.page.url)?.[1] ?? /\/interaction\/([^/"]+)\/reauth/.exec(flow.page.html)![1]!;
  return { ...flow, page, uid };
}

async function actorTokenFrom(flow: Awaited<ReturnType<typeof agentConfirms>>, done: Page): Promise<string> {
  expect(done.url).toContain('/callback');
  const tokens = await client.authorizationCodeGrant(flow.config, new URL(done.url), {
    pkceCodeVerifier: flow.verifier,
    expectedState: flow.state,
  });
  return tokens.access_token;
}

afterEach(async () => {
  await setPolicy('without_asking');
});

test('the customer sets "only after I approve"; the agent waits; the customer approves from the emailed link; the exchange then opens the session', async () => {
  const set = await setPolicy('after_approval');
  expect(set.status).toBe(200);
  expect(set.body).toMatchObject({ policy: 'after_approval', effective: 'after_approval' });
  expect((await audit('account.access_policy.changed')).at(-1)).toMatchObject({ actor: oleg, details: { to: 'after_approval' } });

  const screen = await openReauth({ issuer }, { customer: oleg });
  expect(screen.page.html).toContain('This customer’s approval is needed');

  const flow = await agentConfirms('Checkout fails at payment');
  expect(flow.page.status).toBe(202);
  expect(flow.page.html).toContain('Waiting for the customer’s approval');
  expect(flow.page.html).toContain(`<meta http-equiv="refresh" content="3; url=/interaction/${flow.uid}/approval">`);

  const mail = await system.catcher.waitFor((m) => m.to.includes('oleg@example.com') && m.subject.includes('asks to act for you'));
  expect(mail.text).toContain('Checkout fails at payment');
  const link = linkIn(mail, 'http://localhost:4001/electronics/account/approvals/');
  const id = link.split('/').pop()!;

  // Still waiting: the page says so again when it reloads.
  const again = await flow.browser.follow(`${issuer}/interaction/${flow.uid}/approval`);
  expect(again.status).toBe(202);

  const listed = await api('/account/approval-requests', olegToken);
  expect((listed.body.requests as { id: string; status: string; agent: { name: string } }[])[0]).toMatchObject({
    id,
    status: 'pending',
    agent: { name: 'Sam Support' },
  });
  const approved = await api(`/account/approval-requests/${id}/approve`, olegToken, 'POST', { duration: 'session' });
  expect(approved.status).toBe(200);
  expect(approved.body).toMatchObject({ status: 'approved', approved_for: 'session' });
  // Answered once only.
  expect((await api(`/account/approval-requests/${id}/deny`, olegToken, 'POST')).status).toBe(409);

  const done = await flow.browser.follow(`${issuer}/interaction/${flow.uid}/approval`);
  const actorToken = await actorTokenFrom(flow, done);
  const issued = await exchange({ issuer }, onBehalfParams(oleg, actorToken));
  expect(issued.status).toBe(200);
  expect(issued.body.access_token).toBeDefined();

  expect((await audit('on_behalf.approval.requested')).at(-1)).toMatchObject({ subject: oleg, details: { approval_id: id, mailed: true } });
  expect((await audit('on_behalf.approval.approved')).at(-1)).toMatchObject({ actor: oleg, details: { approval_id: id } });

  // A "this session" approval lets no second re-authentication through: the next one waits again.
  const next = await agentConfirms('Follow-up');
  expect(next.page.status).toBe(202);
});

test('a denied request: the agent is told, and nothing can be exchanged', async () => {
  await setPolicy('after_approval');
  const flow = await agentConfirms('Denied one');
  const requests = (await api('/account/approval-requests', olegToken)).body.requests as { id: string; status: string }[];
  const pending = requests.find((r) => r.status === 'pending')!;
  expect((await api(`/account/approval-requests/${pending.id}/deny`, olegToken, 'POST')).body).toMatchObject({ status: 'denied' });
  const told = await flow.browser.follow(`${issuer}/interaction/${flow.uid}/approval`);
  expect(told.status).toBe(403);
  expect(told.html).toContain('The customer denied your request');
  expect((await audit('on_behalf.approval.denied')).at(-1)).toMatchObject({ actor: oleg, details: { approval_id: pending.id } });
  expect((await audit('on_behalf.denied')).at(-1)).toMatchObject({ details: { reason: 'approval_denied' } });
});

test('an expired request: the agent is told; the expiry is audited; the customer can no longer approve it', async () => {
  await setPolicy('after_approval');
  const flow = await agentConfirms('Expiring one');
  const [row] = (await system.running.behalf.dataSource.query(
    `UPDATE on_behalf_approval SET expires_at = now() - interval '1 second' WHERE interaction_uid = $1 RETURNING id`,
    [flow.uid],
  )) as [{ id: string }[], number];
  const id = row[0]!.id;
  const told = await flow.browser.follow(`${issuer}/interaction/${flow.uid}/approval`);
  expect(told.status).toBe(403);
  expect(told.html).toContain('did not answer your request in time');
  expect((await audit('on_behalf.approval.expired')).some((e) => e.details.approval_id === id)).toBe(true);
  expect((await api(`/account/approval-requests/${id}/approve`, olegToken, 'POST', { duration: '24h' })).status).toBe(409);
});

test('the exchange refuses a session that needs an approval it does not have (and audits why)', async () => {
  // Re-authenticated while Oleg allowed support without asking…
  const { actorToken } = await reauthenticate({ issuer }, { customer: oleg, reason: 'Before the change' });
  // …then Oleg asks to be asked first: the session does not open.
  await setPolicy('after_approval');
  const refused = await exchange({ issuer }, onBehalfParams(oleg, actorToken));
  expect(refused.status).toBe(400);
  expect(refused.body).toMatchObject({ error: 'invalid_request' });
  expect(String(refused.body.error_description)).toContain('approve');
  expect((await audit('on_behalf.denied')).at(-1)).toMatchObject({ subject: oleg, details: { reason: 'approval_required' } });

  await setPolicy('never');
  const never = await exchange({ issuer }, onBehalfParams(oleg, actorToken));
  expect(never.status).toBe(400);
  expect((await audit('on_behalf.denied')).at(-1)).toMatchObject({ details: { reason: 'customer_refuses' } });
});

test('"never": the re-auth screen refuses before the agent types anything', async () => {
  await setPolicy('never');
  const screen = await openReauth({ issuer }, { customer: oleg });
  expect(screen.page.status).toBe(403);
  expect(screen.page.html).toContain('does not allow support staff to act on their behalf');
});

test('a 24-hour approval lets the same agent in again without asking', async () => {
  await setPolicy('after_approval');
  const first = await agentConfirms('Standing approval');
  const requests = (await api('/account/approval-requests', olegToken)).body.requests as { id: string; status: string }[];
  const pending = requests.find((r) => r.status === 'pending')!;
  await api(`/account/approval-requests/${pending.id}/approve`, olegToken, 'POST', { duration: '24h' });
  await actorTokenFrom(first, await first.browser.follow(`${issuer}/interaction/${first.uid}/approval`));
  // The same agent again, within the 24 hours: straight through, and the exchange accepts it.
  const { actorToken } = await reauthenticate({ issuer }, { customer: oleg, reason: 'Second visit' });
  expect((await exchange({ issuer }, onBehalfParams(oleg, actorToken))).status).toBe(200);
});

test('the store’s policy: the admin may forbid "never" and require approval; the customer’s choice stays within it', async () => {
  const admin = await portalToken(issuer, 'ada');
  const forbid = await api('/admin/stores/electronics/access-policy', admin, 'PUT', { allow_never: false, require_approval: true });
  expect(forbid.status).toBe(200);
  expect(forbid.body).toMatchObject({ allow_never: false, require_approval: true, self_registration: false });
  expect((await audit('admin.store.access_policy_changed')).at(-1)?.details).toMatchObject({ allow_never: false, require_approval: true });
  try {
    expect((await setPolicy('never')).status).toBe(409);
    const mine = await api('/account/access-policy', olegToken);
    expect(mine.body).toMatchObject({ policy: 'without_asking', effective: 'after_approval' });
    const screen = await openReauth({ issuer }, { customer: oleg });
    expect(screen.page.html).toContain('This customer’s approval is needed');
    // Staff tokens are not the customer's, and support staff are not admins.
    expect((await api('/account/access-policy', admin, 'PUT', { policy: 'never' })).status).toBe(403);
    const support = await portalToken(issuer, 'sam');
    expect((await api('/admin/stores/electronics/access-policy', support, 'PUT', { allow_never: true })).status).toBe(403);
    expect((await api('/admin/stores/electronics/access-policy', admin, 'PUT', { allow_never: 'yes' })).status).toBe(400);
    expect((await api('/admin/stores/electronics/access-policy', admin, 'PUT', { surprise: true })).status).toBe(400);
  } finally {
    await api('/admin/stores/electronics/access-policy', admin, 'PUT', { allow_never: true, require_approval: false });
  }
});

test('bad input to the customer API is a clear 400, never a 500', async () => {
  expect((await setPolicy('sometimes')).status).toBe(400);
  expect((await api('/account/approval-requests/not-a-uuid', olegToken)).status).toBe(404);
  expect(
    (
      await api(`/account/approval-requests/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/approve`, olegToken, 'POST', {
        duration: 'forever',
      })
    ).status,
  ).toBe(400);
  const browser = new HttpBrowser(issuer);
  expect((await browser.follow(`${issuer}/interaction/nothing/approval`)).status).toBe(400);
});

test('when the session ends the customer gets a summary; "this wasn’t me" reaches the admins (listed with names) and is audited', async () => {
  const { actorToken } = await reauthenticate({ issuer }, { customer: oleg, reason: 'Fix the cart', ticket: 'T-19' });
  const issued = await exchange({ issuer }, onBehalfParams(oleg, actorToken));
  const sid = String(decodeJwt(String(issued.body.access_token)).obo_sid);
  const ended = await postForm(`${issuer}/on-behalf/sessions/end`, new URLSearchParams({ session_id: sid }), {
    authorization: basic('storefront-electronics', 'storefront-demo-secret'),
  });
  expect(ended.status).toBe(200);
  const mail = await system.catcher.waitFor((m) => m.to.includes('oleg@example.com') && m.subject.includes('acted on your account'));
  expect(mail.subject).toBe('Sam Support from Electronics support acted on your account');
  expect(mail.text).toContain('Why: Fix the cart');
  expect(mail.text).toContain('Ticket: T-19');
  expect(mail.text).toContain('ended by the support agent');
  expect(linkIn(mail, 'http://localhost:4001/electronics/account/history')).toBe('http://localhost:4001/electronics/account/history');
  expect(linkIn(mail, 'http://localhost:4001/electronics/account/history/')).toBe(
    `http://localhost:4001/electronics/account/history/${sid}/report`,
  );
  expect(mail.html).toContain(`href="http://localhost:4001/electronics/account/history/${sid}/report"`);

  const reported = await api(`/account/on-behalf-sessions/${sid}/report`, olegToken, 'POST', { comment: 'I never called support' });
  expect(reported.status).toBe(201);
  expect((await api(`/account/on-behalf-sessions/${sid}/report`, olegToken, 'POST', {})).status).toBe(200);
  const anna = (await customerTokens(issuer, 'anna@example.com')).access_token;
  expect((await api(`/account/on-behalf-sessions/${sid}/report`, anna, 'POST', {})).status).toBe(404);
  expect((await audit('on_behalf.reported')).at(-1)).toMatchObject({ actor: oleg, details: { comment: 'I never called support' } });

  const admin = await portalToken(issuer, 'ada');
  const reports = await api('/admin/reports', admin);
  expect(reports.status).toBe(200);
  expect((reports.body.reports as Record<string, unknown>[])[0]).toMatchObject({
    session_id: sid,
    comment: 'I never called support',
    customer: { id: oleg, name: 'Oleg Petrov', email: 'oleg@example.com' },
    agent: { name: 'Sam Support' },
    store: { slug: 'electronics' },
    session: { reason: 'Fix the cart', ticket: 'T-19', end_reason: 'ended_by_client' },
  });
  expect((await api('/admin/reports?store=books', admin)).body.reports).toEqual([]);
  expect((await api('/admin/reports?limit=0', admin)).status).toBe(400);
  expect((await api('/admin/reports', await portalToken(issuer, 'sam'))).status).toBe(403);
});
