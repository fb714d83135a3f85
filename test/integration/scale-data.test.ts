/**
 * The benchmark's scale data (test/bench/scale-data.ts) is valid data: the
 * audit chain it continues verifies with Behalf's own verifier (checkpoints
 * before and after included), a generated customer signs in with the demo
 * customers' password, the directory finds generated people by name and by
 * email within the right store, and the counts and unique keys hold.
 */
import { loadConfig } from '../../config/load.js';
import { runCli } from '../../src/cli/index.js';
import { parseContactSearch } from '../../src/server/directory/directory-params.js';
import { DirectoryQuery } from '../../src/server/directory/directory-query.js';
import { DEMO_PASSWORDS } from '../../src/server/seed/demo-data.js';
import { createServices, type Services } from '../../src/server/system.js';
import { seedScale } from '../bench/scale-data.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const SIZE = { accounts: 2_400, contacts: 2_000, auditRows: 20_000 };
/** The scale data's email domains (the demo's are example.com and example.net). */
const SCALE_EMAIL = `'@(example\\.org|[a-z-]+\\.example)$'`;

let db: TestDatabase;
let services: Services;
let before: { contacts: number; accounts: number; roles: number; events: number; checkpointSeq: number };
const log: string[] = [];

async function count(sql: string): Promise<number> {
  const [row] = (await services.dataSource.query(sql)) as [{ n: number }];
  return Number(row.n);
}

async function cli(...argv: string[]) {
  const result = { code: 0, stdout: '', stderr: '' };
  const io = { stdout: { write: (text: string) => (result.stdout += text) }, stderr: { write: (text: string) => (result.stderr += text) } };
  result.code = await runCli(argv, io, { env: { NODE_ENV: 'test', DATABASE_URL: db.url } });
  return result;
}

beforeAll(async () => {
  db = await createTestDatabase();
  services = await createServices(loadConfig({ env: { NODE_ENV: 'test', DATABASE_URL: db.url } }));
  // A chain with a real event and a signed checkpoint before the scale rows: they must continue it.
  await services.audit.record({ type: 'admin.store.updated', actor: 'cli:scale-test', details: { note: 'before scale data' } });
  const sealed = await cli('audit', 'checkpoint');
  expect(sealed.code).toBe(0);
  before = {
    contacts: await count(`SELECT count(*) AS n FROM contact`),
    accounts: await count(`SELECT count(*) AS n FROM account`),
    roles: await count(`SELECT count(*) AS n FROM account_role`),
    events: await count(`SELECT count(*) AS n FROM audit_event`),
    checkpointSeq: Number(/^tree head of size (\d+) /.exec(sealed.stdout)![1]),
  };
  await seedScale(db.url, SIZE, (line) => log.push(line));
}, 120_000);

afterAll(async () => {
  await services?.database.close();
  await db?.drop();
});

describe('scale data', () => {
  it('adds exactly the requested rows, logging its progress', async () => {
    expect(await count(`SELECT count(*) AS n FROM contact`)).toBe(before.contacts + SIZE.contacts);
    expect(await count(`SELECT count(*) AS n FROM account`)).toBe(before.accounts + SIZE.accounts);
    expect(await count(`SELECT count(*) AS n FROM account_role`)).toBe(before.roles + SIZE.accounts);
    expect(await count(`SELECT count(*) AS n FROM audit_event`)).toBe(before.events + SIZE.auditRows);
    expect(await count(`SELECT max(seq) AS n FROM audit_event`)).toBe(before.events + SIZE.auditRows);
    expect(log.some((line) => /^people: done/.test(line))).toBe(true);
    expect(log.some((line) => /^audit: done/.test(line))).toBe(true);
  });

  it('makes valid people: unique normalised emails, one login per store, stored phone format, customers only', async () => {
    // One person per email; a person's logins share it, one per store.
    expect(await count(`SELECT count(*) AS n FROM (SELECT e FROM contact, unnest(emails) e GROUP BY e HAVING count(*) > 1) d`)).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM account WHERE username ~ ${SCALE_EMAIL}`)).toBe(SIZE.accounts);
    expect(
      await count(
        `SELECT count(*) AS n FROM account WHERE username ~ ${SCALE_EMAIL} AND (email <> username OR username !~ '^[a-z-]+\\.[a-z-]+\\.[0-9]+@[a-z.-]+$')`,
      ),
    ).toBe(0);
    expect(
      await count(
        `SELECT count(*) AS n FROM account a JOIN contact c ON c.id = a.contact_id WHERE a.email <> ALL (c.emails) OR a.display_name <> c.display_name`,
      ),
    ).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM contact WHERE emails[1] ~ ${SCALE_EMAIL}`)).toBe(SIZE.contacts);
    expect(
      await count(
        `SELECT count(*) AS n FROM contact WHERE emails[1] ~ ${SCALE_EMAIL} AND (phones[1] !~ '^\\+1 [0-9]{3} [0-9]{3} [0-9]{4}$' OR cardinality(phones) <> 1)`,
      ),
    ).toBe(0);
    expect(
      await count(
        `SELECT count(*) AS n FROM account a WHERE a.store_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM account_role r WHERE r.account_id = a.id AND r.role = 'customer')`,
      ),
    ).toBe(0);
    // 400 of the 2,000 people have a second login, at the other store.
    expect(
      await count(`SELECT count(*) AS n FROM (SELECT contact_id FROM account GROUP BY contact_id HAVING count(DISTINCT store_id) = 2) two`),
    ).toBeGreaterThanOrEqual(400);
    const names = (await services.dataSource.query(
      `SELECT count(DISTINCT first_name) AS first, count(DISTINCT last_name) AS last FROM contact`,
    )) as [{ first: string; last: string }];
    expect(Number(names[0].first)).toBeGreaterThan(150);
    expect(Number(names[0].last)).toBeGreaterThan(150);
  });

  it('continues the audit log: Behalf verifies it, across the tree head before and a new one after', async () => {
    const first = await services.audit.verify();
    expect(first).toMatchObject({
      ok: true,
      events: before.events + SIZE.auditRows,
      log: { lastTreeHead: { treeSize: before.checkpointSeq }, missingQids: [] },
    });
    const sealed = await cli('audit', 'checkpoint');
    expect(sealed.code).toBe(0);
    const verified = await cli('audit', 'verify');
    expect(verified).toMatchObject({ code: 0, stderr: '' });
    expect(verified.stdout).toMatch(
      new RegExp(
        `^audit chain intact: ${before.events + SIZE.auditRows} events, .*newest signed tree head of size ${before.events + SIZE.auditRows} `,
      ),
    );
    const types = (await services.dataSource.query(`SELECT DISTINCT type FROM audit_event WHERE seq > $1`, [before.events])) as {
      type: string;
    }[];
    expect(types.map((row) => row.type).sort()).toEqual([
      'auth.login.failed',
      'auth.login.succeeded',
      'auth.logout',
      'consent.granted',
      'on_behalf.ended',
      'on_behalf.started',
      'token.issued',
    ]);
    // Actors and subjects are real accounts (or the integrator client).
    expect(
      await count(
        `SELECT count(*) AS n FROM audit_event e WHERE seq > ${before.events} AND subject IS NOT NULL AND NOT EXISTS (SELECT 1 FROM account a WHERE a.id::text = e.subject)`,
      ),
    ).toBe(0);
    expect(
      await count(
        `SELECT count(*) AS n FROM audit_event e WHERE seq > ${before.events} AND actor <> 'client:integrator-demo' AND NOT EXISTS (SELECT 1 FROM account a WHERE a.id::text = e.actor)`,
      ),
    ).toBe(0);
  });

  it('lets a generated customer sign in at its store, with the demo customers\u2019 password', async () => {
    const [sample] = (await services.dataSource.query(
      `SELECT a.username, a.store_id FROM account a WHERE a.status = 'active' AND a.username ~ ${SCALE_EMAIL} ORDER BY a.created_at DESC LIMIT 1`,
    )) as [{ username: string; store_id: string }];
    const signedIn = await services.accounts.signIn(
      { kind: 'storefront', storeId: sample.store_id },
      sample.username,
      DEMO_PASSWORDS.customer,
    );
    expect(signedIn).toMatchObject({ ok: true, account: { username: sample.username, roles: ['customer'] } });
    expect(
      await services.accounts.signIn({ kind: 'storefront', storeId: sample.store_id }, sample.username, 'Not-The-Password-1'),
    ).toMatchObject({ ok: false });
  });

  it('is found by the directory: by name, by email, by phone, within the right store', async () => {
    const directory = new DirectoryQuery(services.dataSource);
    const [person] = (await services.dataSource.query(
      `SELECT c.id, c.first_name, c.last_name, c.emails[1] AS email, c.phones[1] AS phone, array_agg(s.slug ORDER BY s.slug) AS stores
         FROM contact c JOIN account a ON a.contact_id = c.id JOIN store s ON s.id = a.store_id
        WHERE c.emails[1] ~ ${SCALE_EMAIL} GROUP BY c.id HAVING count(*) = 1 ORDER BY c.created_at LIMIT 1`,
    )) as [{ id: string; first_name: string; last_name: string; email: string; phone: string; stores: string[] }];
    const slugs = (await directory.stores()).map((store) => store.slug);
    const other = slugs.find((slug) => slug !== person.stores[0])!;

    const byEmail = await directory.search(parseContactSearch({ q: person.email }));
    expect(byEmail.contacts.map((contact) => contact.id)).toEqual([person.id]);
    expect(byEmail.contacts[0]!.stores).toEqual(person.stores);
    expect((await directory.search(parseContactSearch({ q: person.email, store: person.stores[0]! }))).total).toBe(1);
    expect((await directory.search(parseContactSearch({ q: person.email, store: other }))).total).toBe(0);
    expect((await directory.search(parseContactSearch({ q: person.phone }))).contacts.map((contact) => contact.id)).toContain(person.id);

    const fullName = await directory.search(parseContactSearch({ q: `${person.first_name} ${person.last_name}`, limit: '100' }));
    expect(fullName.contacts.some((contact) => contact.id === person.id)).toBe(true);

    // "Oleg": the demo's Oleg Petrov plus a realistic few of the generated people, not half the table.
    const oleg = await directory.search(parseContactSearch({ q: 'Oleg' }));
    const generatedOlegs = await count(`SELECT count(*) AS n FROM contact WHERE first_name = 'Oleg' AND emails[1] ~ ${SCALE_EMAIL}`);
    expect(generatedOlegs).toBeGreaterThan(0);
    expect(generatedOlegs).toBeLessThan(SIZE.contacts / 50);
    expect(oleg.total).toBeGreaterThanOrEqual(1 + generatedOlegs);
    for (const slug of slugs) {
      const scoped = await directory.search(parseContactSearch({ q: 'Oleg', store: slug, limit: '100' }));
      const expected = await count(
        `SELECT count(DISTINCT c.id) AS n FROM contact c JOIN account a ON a.contact_id = c.id JOIN store s ON s.id = a.store_id
          WHERE c.search @@ 'oleg:*'::tsquery AND s.slug = '${slug}'`,
      );
      expect(scoped.total).toBe(expected);
      expect(scoped.contacts.every((contact) => contact.stores.includes(slug))).toBe(true);
    }
  });
});
