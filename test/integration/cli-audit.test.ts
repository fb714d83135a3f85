/** The CLI's audit commands, and the admin.* events that CLI changes leave in the trail. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/load.js';
import { runCli } from '../../src/cli/index.js';
import { createServices, type Services } from '../../src/server/system.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let services: Services;
const dir = mkdtempSync(join(tmpdir(), 'behalf-cli-audit-'));

beforeAll(async () => {
  db = await createTestDatabase();
  services = await createServices(loadConfig({ env: { NODE_ENV: 'test', DATABASE_URL: db.url } }));
});
afterAll(async () => {
  await services?.database.close();
  await db?.drop();
});

async function cli(...argv: string[]) {
  const result = { code: 0, stdout: '', stderr: '' };
  const io = { stdout: { write: (text: string) => (result.stdout += text) }, stderr: { write: (text: string) => (result.stderr += text) } };
  result.code = await runCli(argv, io, { env: { NODE_ENV: 'test', DATABASE_URL: db.url } });
  return result;
}

describe('admin events from the CLI', () => {
  it('records who changed what', async () => {
    expect((await cli('stores', 'create', 'garden', '--name', 'Garden')).code).toBe(0);
    expect((await cli('permissions', 'grant', 'viewer@example.com', 'security:loginOnBehalf', '--store', 'garden')).code).toBe(0);
    expect((await cli('accounts', 'disable', 'viewer@example.com')).code).toBe(0);
    const viewer = await services.accounts.findByUsername(null, 'viewer@example.com');
    const events = (await services.audit.events.query({ type: 'admin.*' })).events;
    expect(events.map((event) => event.type)).toEqual(['admin.account.disabled', 'admin.permission.granted', 'admin.store.created']);
    for (const event of events) expect(event.actor).toMatch(/^cli:/);
    expect(events[0]).toMatchObject({ subject: viewer!.id });
    expect(events[1]).toMatchObject({
      subject: viewer!.id,
      details: { permission: 'security:loginOnBehalf', store: 'Garden', store_id: expect.any(String) },
    });
  });
});

describe('audit checkpoint, query, verify, export', () => {
  it('seals the head and verifies the log', async () => {
    const sealed = await cli('audit', 'checkpoint');
    expect(sealed.code).toBe(0);
    expect(sealed.stdout).toMatch(/^tree head of size \d+ \(root [0-9a-f]{64}\) signed /);
    const verified = await cli('audit', 'verify');
    expect(verified).toMatchObject({ code: 0, stderr: '' });
    expect(verified.stdout).toMatch(/^audit chain intact: \d+ events, .*newest signed tree head of size \d+/);
  });

  it('proves one event and checks the proof offline with the published keys, refusing a tampered one', async () => {
    await cli('audit', 'checkpoint');
    const [store] = (await services.audit.events.query({ type: 'admin.store.created' })).events;
    const file = join(dir, 'store.proof.json');
    const proved = await cli('audit', 'prove', String(store!.seq), '--output', file);
    expect(proved).toMatchObject({ code: 0, stderr: `proof written to ${file}\n` });
    const keys = join(dir, 'jwks.json');
    writeFileSync(keys, JSON.stringify(await services.audit.verificationKeys()));
    const checked = await cli('audit', 'verify-proof', file, '--keys', keys);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(
      new RegExp(`^proof holds: event ${store!.seq} \\(admin.store.created\\) is included in audit_event's signed tree of size \\d+`),
    );
    expect((await cli('audit', 'verify-proof', file)).stdout).toMatch(/warning: checked with the bundle's own keys/);

    writeFileSync(join(dir, 'forged.proof.json'), readFileSync(file, 'utf8').replace('"Garden"', '"Gardens"'));
    const forged = await cli('audit', 'verify-proof', join(dir, 'forged.proof.json'), '--keys', keys);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toMatch(/^proof FAILS: event \d+ was altered/);

    const consistency = join(dir, 'consistency.json');
    expect((await cli('audit', 'prove-consistency', '1', '--output', consistency)).code).toBe(1);
    const heads = await services.audit.treeHeads();
    expect((await cli('audit', 'prove-consistency', String(heads[0]!.treeSize), '--output', consistency)).code).toBe(0);
    expect((await cli('audit', 'verify-proof', consistency, '--keys', keys)).stdout).toMatch(
      /^proof holds: the signed tree of size \d+ extends/,
    );
    expect((await cli('audit', 'prove', '999999')).stderr).toMatch(/not covered by a signed tree head yet/);
  });

  it('queries as a table and as JSON, validating its options', async () => {
    const listed = await cli('audit', 'query', '--type', 'admin.*', '--limit', '2');
    expect(listed.stdout.split('\n')[0]).toMatch(/^SEQ\s+TIME\s+TYPE/);
    const asJson = JSON.parse((await cli('audit', 'query', '--type', 'admin.store.created', '--json')).stdout) as {
      events: { type: string }[];
    };
    expect(asJson.events).toHaveLength(1);
    const bad = await cli('audit', 'query', '--limit', '9999');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^behalf: option '--limit <n>' argument '9999' is invalid/);
  });

  it('pages with the cursor it prints, and refuses a malformed one', async () => {
    const first = JSON.parse((await cli('audit', 'query', '--limit', '2', '--json')).stdout) as {
      events: { id: string }[];
      next_before: string;
    };
    expect(first.next_before).toMatch(/^[qs]\d+$/);
    expect((await cli('audit', 'query', '--limit', '2')).stdout).toContain(`more: audit query --before ${first.next_before}`);
    const second = JSON.parse((await cli('audit', 'query', '--limit', '2', '--before', first.next_before, '--json')).stdout) as {
      events: { id: string }[];
    };
    expect(second.events).toHaveLength(2);
    expect(second.events.filter((event) => first.events.some((seen) => seen.id === event.id))).toEqual([]);
    const bad = await cli('audit', 'query', '--before', '17');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/not a paging cursor: 17/);
  });

  it('fails verification on an event committed but not sequenced within the bound', async () => {
    const appended = await services.audit.record({ type: 'admin.test.stalled', actor: 'system' });
    // As if no sequencer had run for two minutes.
    await services.dataSource.transaction(async (manager) => {
      await manager.query('ALTER TABLE audit_event DISABLE TRIGGER USER');
      await manager.query(`UPDATE audit_event SET queued_at = now() - interval '2 minutes' WHERE qid = $1`, [appended.qid]);
      await manager.query('ALTER TABLE audit_event ENABLE TRIGGER USER');
    });
    const stalled = await cli('audit', 'verify');
    expect(stalled.code).toBe(1);
    expect(stalled.stdout).toMatch(
      new RegExp(
        `^audit log STALLED: 1 committed events were never sequenced: the oldest \\(queue id ${appended.qid}, .*more than the 60 s bound`,
      ),
    );
    await cli('audit', 'checkpoint');
    expect((await cli('audit', 'verify')).code).toBe(0);
  });

  it('exports a file that verifies offline, and fails on a tampered copy', async () => {
    const file = join(dir, 'audit.jsonl');
    const exported = await cli('audit', 'export', '--output', file);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(/^exported \d+ events to /);
    expect((await cli('audit', 'verify', '--file', file)).stdout).toMatch(/^audit chain intact/);

    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const index = lines.findIndex((line) => line.includes('"type":"admin.store.created"'));
    lines[index] = lines[index]!.replace('"Garden"', '"Gardens"');
    writeFileSync(join(dir, 'tampered.jsonl'), `${lines.join('\n')}\n`);
    const broken = await cli('audit', 'verify', '--file', join(dir, 'tampered.jsonl'));
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/^audit chain BROKEN at seq \d+: event \d+ was altered/);
  });

  it('catches a truncated database against an earlier export', async () => {
    const earlier = join(dir, 'audit.jsonl');
    await services.dataSource.query('ALTER TABLE audit_event DISABLE TRIGGER ALL');
    await services.dataSource.query('ALTER TABLE audit_event_tree_head DISABLE TRIGGER ALL');
    // The attacker removes the newest events and every signed head kept in the database.
    const [{ max }] = (await services.dataSource.query('SELECT max(seq)::int AS max FROM audit_event')) as [{ max: number }];
    await services.dataSource.query('DELETE FROM audit_event WHERE seq >= $1 OR seq IS NULL', [max - 1]);
    await services.dataSource.query('DELETE FROM audit_event_tree_head');
    await services.dataSource.query('ALTER TABLE audit_event ENABLE TRIGGER ALL');
    await services.dataSource.query('ALTER TABLE audit_event_tree_head ENABLE TRIGGER ALL');
    expect((await cli('audit', 'verify')).code).toBe(0); // nothing inside the database can tell
    const held = await cli('audit', 'verify', '--checkpoints', earlier);
    expect(held.code).toBe(1);
    expect(held.stdout).toMatch(new RegExp(`^audit chain BROKEN at seq ${max - 1}: .*truncated tail`));
  });
});
