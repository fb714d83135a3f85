/** The directory API: full-text search, filters, paging, per-caller login-on-behalf rights, and its refusals. */
import { DEMO_CUSTOMERS, generatedContacts } from '../../src/server/seed/demo-data.js';
import { DirectoryQuery, namePrefixSql, searchSql } from '../../src/server/directory/directory-query.js';
import { parseContactSearch } from '../../src/server/directory/directory-params.js';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { customerTokens } from '../support/oauth.js';
import { portalToken } from '../support/staff.js';

interface ContactJson {
  id: string;
  name: string;
  emails: string[];
  phones: string[];
  stores: string[];
}
interface SearchJson {
  contacts: ContactJson[];
  page: number;
  limit: number;
  total: number;
}
interface DetailJson {
  id: string;
  name: string;
  accounts: { id: string; store: { slug: string; name: string }; email: string; status: string; can_login_on_behalf: boolean }[];
}

let running: RunningBehalf;
const tokens: Record<'sam' | 'bea' | 'vic' | 'ada', string> = { sam: '', bea: '', vic: '', ada: '' };

beforeAll(async () => {
  running = await startBehalf();
  for (const who of Object.keys(tokens) as (keyof typeof tokens)[]) tokens[who] = await portalToken(running.issuer, who);
});
afterAll(async () => {
  await running?.stop();
});

function get(path: string, token: string | null = tokens.sam) {
  return fetch(`${running.issuer}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

async function search(query: string, token = tokens.sam): Promise<SearchJson> {
  const response = await get(`/directory/contacts?${query}`, token);
  expect(response.status).toBe(200);
  return (await response.json()) as SearchJson;
}

async function olegId(): Promise<string> {
  return (await search('q=oleg%40example.com')).contacts[0]!.id;
}

async function detail(id: string, token = tokens.sam): Promise<DetailJson> {
  const response = await get(`/directory/contacts/${id}`, token);
  expect(response.status).toBe(200);
  return (await response.json()) as DetailJson;
}

describe('search', () => {
  it.each([
    ['q=Oleg'],
    ['q=ole'],
    ['q=OLEG%20petr'],
    ['q=oleg%40example.com'],
    ['q=oleg%40exa'],
    ['q=%2B1%20555%200100'],
    ['q=5550100'],
    ['q=555%200100'],
    ['q=15550100'],
  ])('%s finds Oleg Petrov', async (query) => {
    const body = await search(query);
    expect(body.contacts.map((contact) => contact.name)).toContain('Oleg Petrov');
    const oleg = body.contacts.find((contact) => contact.name === 'Oleg Petrov')!;
    expect(oleg).toEqual({
      id: expect.any(String),
      name: 'Oleg Petrov',
      emails: ['oleg@example.com'],
      phones: ['+1 555 0100'],
      stores: ['books', 'electronics'],
    });
  });

  it('ranks the best match first and pages are disjoint', async () => {
    const phone = await search('q=5550100');
    expect(phone.contacts[0]!.name).toBe('Oleg Petrov');
    const first = await search('q=ol&limit=5');
    const second = await search('q=ol&limit=5&page=2');
    expect(first).toMatchObject({ page: 1, limit: 5 });
    expect(second.total).toBe(first.total);
    const ids = [...first.contacts, ...second.contacts].map((contact) => contact.id);
    expect(new Set(ids).size).toBe(10);
  });

  it('counts and pages through every contact', async () => {
    const everyone = DEMO_CUSTOMERS.length + generatedContacts().length;
    const seen = new Set<string>();
    for (let page = 1; page <= 4; page += 1) {
      const body = await search(`limit=100&page=${page}`);
      expect(body.total).toBe(everyone);
      for (const contact of body.contacts) seen.add(contact.id);
    }
    expect(seen.size).toBe(everyone);
    expect((await search('limit=100&page=5')).contacts).toEqual([]);
    expect((await search('')).limit).toBe(20);
  });

  it('filters by store and by account status', async () => {
    const people = [...DEMO_CUSTOMERS, ...generatedContacts()];
    const atBooks = people.filter((person) => person.stores.includes('books')).length;
    expect((await search('store=books&limit=1')).total).toBe(atBooks);
    expect((await search('q=oleg&store=books')).contacts.map((c) => c.name)).toEqual(['Oleg Petrov']);
    expect((await search('q=anna%40example.com&store=books')).total).toBe(0);
    expect((await search('q=anna%40example.com&store=electronics')).total).toBe(1);
    expect((await search('store=no-such-store')).total).toBe(0);
    expect((await search('status=disabled')).total).toBe(0);
    expect((await search('status=active&limit=1')).total).toBe(people.length);
  });

  it('finds nothing, rather than everything, when q has no words', async () => {
    expect(await search("q='):*%20|%20!")).toEqual({ contacts: [], page: 1, limit: 20, total: 0, total_exact: true });
  });

  it('counts and ranks at most MATCH_CAP matches, and says when there are more', async () => {
    expect(await search('q=ol&limit=1')).toMatchObject({ total_exact: true });
    // The demo directory is far below MATCH_CAP (1000): a small cap shows the behaviour.
    const capped = new DirectoryQuery(running.behalf.dataSource, 5);
    const broad = await capped.search(parseContactSearch({ q: 'ol', limit: '3' }));
    expect(broad).toMatchObject({ total: 5, totalExact: false });
    expect(broad.contacts).toHaveLength(3);
    // Paging stays within the capped matches.
    expect((await capped.search(parseContactSearch({ q: 'ol', limit: '3', page: '2' }))).contacts).toHaveLength(2);
    expect((await capped.search(parseContactSearch({ q: 'ol', limit: '3', page: '3' }))).contacts).toEqual([]);
    // Without q the capped matches are the first in name order, so the first page is the uncapped one's.
    const uncapped = new DirectoryQuery(running.behalf.dataSource);
    expect((await capped.search(parseContactSearch({ limit: '5' }))).contacts).toEqual(
      (await uncapped.search(parseContactSearch({ limit: '5' }))).contacts,
    );
    // An exact count when the matches fit.
    expect(await capped.search(parseContactSearch({ q: 'oleg petrov' }))).toMatchObject({ total: 1, totalExact: true });
  });

  describe('a one-word name with more matches than MATCH_CAP', () => {
    const people = [...DEMO_CUSTOMERS, ...generatedContacts()];
    // The most common first name of the demo directory, and a cap below its count.
    const counts = new Map<string, number>();
    for (const person of people) counts.set(person.firstName, (counts.get(person.firstName) ?? 0) + 1);
    const [firstName, named] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
    const cap = named - 1;
    const prefix = firstName.toLowerCase().slice(0, 3);

    it('is answered from the first-name index, in name order, as more than the cap', async () => {
      const capped = new DirectoryQuery(running.behalf.dataSource, cap);
      const starting = people.filter((person) => person.firstName.toLowerCase().startsWith(prefix));
      expect(starting.length).toBeGreaterThan(cap);
      const pages = [];
      for (let page = 1; page <= Math.ceil(cap / 5) + 1; page += 1)
        pages.push(await capped.search(parseContactSearch({ q: prefix.toUpperCase(), limit: '5', page: String(page) })));
      for (const page of pages) expect(page).toMatchObject({ total: cap, totalExact: false });
      const listed = pages.flatMap((page) => page.contacts);
      // Real matches, each once, as many as the cap.
      expect(listed).toHaveLength(cap);
      expect(new Set(listed.map((contact) => contact.id)).size).toBe(cap);
      const byName = new Map(people.map((person) => [`${person.firstName} ${person.lastName}`, person]));
      for (const contact of listed) expect(byName.get(contact.name)!.firstName.toLowerCase().startsWith(prefix)).toBe(true);
    });

    it('orders by first (or last) name, then display name (the full-text search ranks, then orders by display name)', async () => {
      // Display names that do not start with the first name tell the two orders apart.
      const inserted = (await running.behalf.dataSource.query(
        `INSERT INTO contact (first_name, last_name, display_name) VALUES ('Xena', 'Zed', 'Zed Xena'), ('Xenb', 'Aaron', 'Aaron Xenb'), ('Xenc', 'Mid', 'Mid Xenc'),
           ('Zed', 'Yola', 'Zed Yola'), ('Aaron', 'Yolb', 'Aaron Yolb'), ('Mid', 'Yolc', 'Mid Yolc') RETURNING id`,
      )) as { id: string }[];
      try {
        const names = async (q: string, matchCap: number) =>
          (await new DirectoryQuery(running.behalf.dataSource, matchCap).search(parseContactSearch({ q }))).contacts.map(
            (contact) => contact.name,
          );
        expect(await names('xen', 2)).toEqual(['Zed Xena', 'Aaron Xenb']);
        expect(await names('xen', 3)).toEqual(['Aaron Xenb', 'Mid Xenc', 'Zed Xena']);
        // The same through the last-name index.
        expect(await names('YOL', 2)).toEqual(['Zed Yola', 'Aaron Yolb']);
        expect(await names('yol', 3)).toEqual(['Aaron Yolb', 'Mid Yolc', 'Zed Yola']);
      } finally {
        await running.behalf.dataSource.query(`DELETE FROM contact WHERE id = ANY($1)`, [inserted.map((row) => row.id)]);
      }
    });

    it('falls back to the full-text search with its exact count when fewer names start with the word', async () => {
      const roomy = new DirectoryQuery(running.behalf.dataSource, 1000);
      const direct = await roomy.search(parseContactSearch({ q: firstName }));
      expect(direct.totalExact).toBe(true);
      expect(direct.total).toBeGreaterThanOrEqual(named);
      // A last-name word and a word no name starts with.
      expect(await roomy.search(parseContactSearch({ q: 'petrov' }))).toMatchObject({ totalExact: true });
      expect(await roomy.search(parseContactSearch({ q: 'zzqx' }))).toEqual({ contacts: [], total: 0, totalExact: true });
    });

    it('reads only the index (no table rows) for the count', async () => {
      const search = parseContactSearch({ q: firstName });
      const { sql, values } = namePrefixSql({ ...search, namePrefix: search.namePrefix!, tsquery: search.tsquery! });
      await running.behalf.dataSource.query('VACUUM contact');
      const plan = await running.behalf.dataSource.transaction(async (manager) => {
        await manager.query('SET LOCAL enable_seqscan = off');
        await manager.query('SET LOCAL enable_bitmapscan = off');
        const rows = (await manager.query(`EXPLAIN ${sql}`, values)) as { 'QUERY PLAN': string }[];
        return rows.map((row) => row['QUERY PLAN']).join('\n');
      });
      expect(plan).toMatch(/Index Only Scan using contact_first_name_prefix_idx/);
    });
  });

  it.each(['ole', 'oleg petrov', '5550100'])('can use the GIN index on contact.search for q=%j', async (q) => {
    const { sql, values } = searchSql(parseContactSearch({ q }));
    const plan = await running.behalf.dataSource.transaction(async (manager) => {
      // 302 rows fit in a few pages, so the planner rightly prefers a scan; forbid it to see the index is usable.
      await manager.query('SET LOCAL enable_seqscan = off');
      const rows = (await manager.query(`EXPLAIN ${sql}`, values)) as { 'QUERY PLAN': string }[];
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    });
    expect(plan).toMatch(/Bitmap Index Scan on contact_search_idx/);
  });
});

describe('a contact and its accounts', () => {
  it('lists the accounts with store, email and status', async () => {
    const oleg = await detail(await olegId());
    expect(oleg.name).toBe('Oleg Petrov');
    expect(oleg.accounts.map((account) => [account.store.name, account.email, account.status])).toEqual([
      ['Books', 'oleg@example.com', 'active'],
      ['Electronics', 'oleg@example.com', 'active'],
    ]);
  });

  it.each([
    ['sam', { books: true, electronics: true }],
    ['bea', { books: true, electronics: false }],
    ['vic', { books: false, electronics: false }],
    ['ada', { books: false, electronics: false }],
  ] as const)('%s may log in on behalf: %j', async (who, expected) => {
    const oleg = await detail(await olegId(), tokens[who]);
    expect(Object.fromEntries(oleg.accounts.map((account) => [account.store.slug, account.can_login_on_behalf]))).toEqual(expected);
  });

  it('answers 404 for an unknown contact and 400 for a malformed id', async () => {
    expect((await get('/directory/contacts/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await get('/directory/contacts/not-a-uuid')).status).toBe(400);
    expect((await get(`/directory/contacts/${await olegId()}?expand=all`)).status).toBe(400);
  });

  it('lists the stores to filter by', async () => {
    const body = (await (await get('/directory/stores')).json()) as { stores: { slug: string; name: string }[] };
    expect(body.stores).toEqual([
      { slug: 'books', name: 'Books' },
      { slug: 'electronics', name: 'Electronics' },
    ]);
  });
});

describe('who may call it', () => {
  it('requires a bearer token (401)', async () => {
    const response = await get('/directory/contacts', null);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="behalf", error="invalid_token"/);
    expect((await get('/directory/contacts', 'not-a-token')).status).toBe(401);
  });

  it('refuses a staff token without directory:read (403, names the scope)', async () => {
    const token = await portalToken(running.issuer, 'sam', 'openid profile');
    const response = await get('/directory/contacts?q=oleg', token);
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toMatch(/error="insufficient_scope".*scope="directory:read"/);
  });

  it("refuses a customer's token (403)", async () => {
    const customer = (await customerTokens(running.issuer)).access_token;
    expect((await get('/directory/contacts?q=oleg', customer)).status).toBe(403);
  });

  it('refuses a storefront client asking for directory:read', async () => {
    await expect(storefrontAsksForDirectory()).rejects.toThrow();
  });
});

async function storefrontAsksForDirectory() {
  // Only the portal lists directory:read; a storefront's authorization request for it is refused outright.
  const url = new URL(`${running.issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: 'storefront-electronics',
    response_type: 'code',
    scope: 'openid directory:read',
    redirect_uri: 'http://localhost:4001/electronics/callback',
    code_challenge: 'x'.repeat(43),
    code_challenge_method: 'S256',
    state: 's',
  }).toString();
  const response = await fetch(url, { redirect: 'manual' });
  const location = new URL(response.headers.get('location') ?? '', running.issuer);
  if (location.searchParams.get('error')) throw new Error(location.searchParams.get('error')!);
  return location;
}

describe('bad input', () => {
  it.each([
    ['limit=0', /limit/],
    ['limit=101', /limit/],
    ['page=0', /page/],
    ['page=abc', /page/],
    ['page=1001', /page/],
    ['status=gone', /status/],
    ['store=BAD!', /store/],
    ['colour=red', /unknown parameter colour/],
    ['q=a&q=b', /once/],
    [`q=${'x'.repeat(201)}`, /at most 200/],
    ['q=a%20b%20c%20d%20e%20f%20g%20h%20i', /at most 8 words/],
    ['q=a%00b', /NUL/],
  ])('answers 400 for %s', async (query, message) => {
    const response = await get(`/directory/contacts?${query}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as { error: string; error_description: string };
    expect(body.error).toBe('invalid_request');
    expect(body.error_description).toMatch(message);
  });

  it.each([
    "'):* | !",
    '\\',
    ':*',
    '&&&',
    '<->',
    '!',
    '(',
    ')',
    "o''",
    '%',
    '_',
    '*',
    '😀',
    "' OR 1=1 --",
    '+',
    '-1',
    '1:*',
    'a & b | !c',
    '\u202e',
    'ß',
  ])('never fails on q=%j', async (q) => {
    const response = await get(`/directory/contacts?q=${encodeURIComponent(q)}`);
    expect(response.status).toBe(200);
  });
});

describe('effects of account changes', () => {
  it('a disabled account is shown so and no one may act for it; a locked-out one is shown locked, and an agent still may', async () => {
    const anna = (await search('q=anna%40example.com')).contacts[0]!;
    const [annaAccount] = (await detail(anna.id)).accounts;
    expect(annaAccount!.can_login_on_behalf).toBe(true);
    await running.behalf.accounts.setStatus(annaAccount!.id, 'disabled');
    expect((await detail(anna.id)).accounts[0]).toMatchObject({ status: 'disabled', can_login_on_behalf: false });
    expect((await search('q=anna%40example.com&status=disabled')).total).toBe(1);
    expect((await search('q=anna%40example.com&status=active')).total).toBe(0);

    const someone = (await search('q=liam&limit=1')).contacts[0]!;
    const [account] = (await detail(someone.id)).accounts;
    await running.behalf.dataSource.query(`UPDATE account SET locked_until = now() + interval '1 hour' WHERE id = $1`, [account!.id]);
    // A lockout after wrong passwords only blocks the customer's own sign-in (anyone knowing the email can cause one).
    expect((await detail(someone.id)).accounts[0]).toMatchObject({ status: 'locked', can_login_on_behalf: true });
    expect((await search('q=liam&status=locked')).contacts.map((contact) => contact.id)).toEqual([someone.id]);
  });
});
