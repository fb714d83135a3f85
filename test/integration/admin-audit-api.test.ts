/** The admin API over the audit trail: admin role only, validated queries, export that verifies offline. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JSONWebKeySet } from 'jose';
import { jwksCheckpointVerifier, jwksTreeHeadVerifier, readExport, verifyChain, verifyProofBundle } from '../../src/audit/index.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { customerTokens } from '../support/oauth.js';
import { portalToken } from '../support/staff.js';

let running: RunningBehalf;
let adminToken: string;

beforeAll(async () => {
  running = await startBehalf();
  adminToken = await portalToken(running.issuer, 'ada', 'openid profile');
  await running.behalf.audit.checkpoint();
});
afterAll(async () => {
  await running?.stop();
});

function get(path: string, token?: string) {
  return fetch(`${running.issuer}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

describe('GET /admin/audit/events', () => {
  it('lists events newest first for an admin, filtered and paged', async () => {
    const response = await get('/admin/audit/events?type=auth.*&limit=1', adminToken);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as { events: { type: string; seq: number }[]; next_before?: string };
    expect(body.events).toHaveLength(1);
    expect(body.events[0]!.type).toBe('auth.login.succeeded');
    const all = (await (await get('/admin/audit/events?limit=500', adminToken)).json()) as { events: { seq: number }[] };
    expect(all.events.map((event) => event.seq)).toEqual([...all.events.map((event) => event.seq)].sort((a, b) => b - a));
  });

  it('requires a bearer token (RFC 6750)', async () => {
    const response = await get('/admin/audit/events');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="behalf", error="invalid_token"/);
    expect((await get('/admin/audit/events', 'not-a-token')).status).toBe(401);
  });

  it('refuses staff without the admin role, and customers', async () => {
    const support = await portalToken(running.issuer, 'sam', 'openid profile');
    const refused = await get('/admin/audit/events', support);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toBe('insufficient_scope');
    const customer = (await customerTokens(running.issuer)).access_token;
    expect((await get('/admin/audit/events', customer)).status).toBe(403);
  });

  it.each([
    ['limit=0', /limit/],
    ['limit=abc', /limit/],
    ['from=yesterday', /from/],
    ['type=DROP%20TABLE', /type/],
    ['actor=a&actor=b', /once/],
    ['colour=red', /unknown parameter colour/],
    // Paging cursors are what next_before gave: a seq from before, or anything else, is refused, never a 500.
    ['before=42', /before must be a paging cursor/],
    ['before=q', /before must be a paging cursor/],
    ['before=q0', /before must be a paging cursor/],
    ['before=x12', /before must be a paging cursor/],
    ['before=q99999999999999999', /before must be a paging cursor/],
    ['before=s-1', /before must be a paging cursor/],
    ['before=q1%00', /before must be a paging cursor/],
  ])('answers 400 for %s', async (query, message) => {
    const response = await get(`/admin/audit/events?${query}`, adminToken);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; error_description: string };
    expect(body.error).toBe('invalid_request');
    expect(body.error_description).toMatch(message);
  });
});

describe('proofs', () => {
  it('gives an inclusion proof for one event and a consistency proof between two heads, both verifying offline', async () => {
    await running.behalf.audit.checkpoint();
    const first = (await running.behalf.audit.treeHeads())[0]!;
    const response = await get('/admin/audit/proof/inclusion?seq=1', adminToken);
    expect(response.status).toBe(200);
    const keys = (await (await fetch(`${running.issuer}/jwks`)).json()) as JSONWebKeySet;
    expect(await verifyProofBundle(await response.json(), { keys, issuer: running.issuer })).toMatchObject({ ok: true });
    const consistency = await get(`/admin/audit/proof/consistency?first=${first.treeSize}`, adminToken);
    expect(await verifyProofBundle(await consistency.json(), { keys })).toMatchObject({ ok: true });
  });

  it.each([
    ['inclusion?seq=0', 400, /seq must be a positive whole number/],
    ['inclusion', 400, /seq is required/],
    ['inclusion?seq=1&seq=2', 400, /once/],
    ['inclusion?seq=99999999', 404, /not covered by a signed tree head yet/],
    ['consistency?first=1&second=99999999', 404, /no signed tree head of size/],
  ])('answers %s with %d', async (query, status, message) => {
    const response = await get(`/admin/audit/proof/${query}`, adminToken);
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error_description: string }).error_description).toMatch(message);
  });
});

describe('chain status and export', () => {
  it('reports the chain intact', async () => {
    const body = (await (await get('/admin/audit/status', adminToken)).json()) as {
      intact: boolean;
      summary: string;
      external_checkpoints: unknown;
      warnings: string[];
    };
    expect(body.intact).toBe(true);
    expect(body.summary).toMatch(/^audit chain intact: \d+ events, .*newest signed tree head of size \d+/);
    // The test configuration switches the external folder off: the status says what that leaves unproven.
    expect(body.external_checkpoints).toBeNull();
    expect(body.warnings).toEqual([expect.stringMatching(/^no external checkpoints: none configured or given/)]);
  });

  it('exports JSON lines that verify offline, and records who exported', async () => {
    const response = await get('/admin/audit/export', adminToken);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    expect(response.headers.get('content-disposition')).toMatch(/attachment; filename="behalf-audit-/);
    const file = join(mkdtempSync(join(tmpdir(), 'behalf-export-')), 'audit.jsonl');
    writeFileSync(file, await response.text());
    const parsed = await readExport(file);
    const result = await verifyChain(
      parsed.header.table,
      parsed.events,
      parsed.checkpoints,
      jwksCheckpointVerifier(parsed.header.keys, running.issuer),
      undefined,
      { heads: parsed.treeHeads, verify: jwksTreeHeadVerifier(parsed.header.keys, running.issuer) },
    );
    expect(result.ok).toBe(true);
    expect(result.log!.lastTreeHead).toBeDefined();
    const [exported] = (await running.behalf.audit.events.query({ type: 'admin.audit.exported' })).events;
    expect(exported).toMatchObject({ clientId: 'portal' });
  });
});
