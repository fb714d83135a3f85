/**
 * Scale data for the benchmark's large runs (issue #8): adds customer
 * contacts and accounts, and audit events that continue the existing chain,
 * to a database that is already migrated and demo-seeded, with Behalf not
 * running. Every row is one Behalf could have written itself:
 *
 * - Contacts and accounts are generated set-based in PostgreSQL
 *   (INSERT … SELECT over generate_series), in chunks of one transaction
 *   each. Names combine 200 first with 200 last names (picked by a hash of
 *   the row number, so a first name such as "Oleg" is about 0.5% of the
 *   generated contacts); emails are `first.last.<n>@<domain>`, lower-case
 *   ASCII and unique; phones are stored as typed (`+1 415 555 0123`); the
 *   search document is the table's generated column. A contact may own one
 *   account per store (the model: one login per store), so `accounts` may
 *   be up to `contacts` × stores; with fewer accounts than contacts the rest
 *   are contacts without a login (the model allows those too). Every
 *   account shares one bcrypt hash of the demo customers' password
 *   (DEMO_PASSWORDS.customer), at the cost the existing demo hashes use.
 * - Audit events are built and hashed in Node with src/audit's own
 *   contentHash/eventLeafHash as sequenced log rows (a reserved block of queue ids each), and inserted in batches (COPY … FROM STDIN,
 *   pg-copy-streams) inside transactions that take the sequencing lock, check that the head is still where this run left it,
 *   and continue from it. Their content mirrors what Behalf records
 *   (token.issued, auth.login.*, consent.granted, on_behalf.*, …) with real
 *   account and client ids. Their times run, non-decreasing like the seq,
 *   from the current head (or `auditSpanDays` ago for an empty chain) up to now.
 *   Checkpoints are Behalf's to sign (`behalf audit checkpoint`, or the
 *   running server's own schedule): nothing here holds its signing keys, and
 *   the verifier needs no checkpoint after the last one to accept the chain.
 *
 * CLI: `node dist/test/bench/scale-data.js <databaseUrl> --accounts 1000000
 * [--contacts 1000000] [--audit-rows 10000000]`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import bcrypt from 'bcrypt';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { contentHash, eventLeafHash } from '../../src/audit/hash.js';
import { GENESIS_HASH, type AuditEvent } from '../../src/audit/index.js';
import { DEMO_PASSWORDS } from '../../src/server/seed/demo-data.js';

const FIRST_NAMES = [
  'Oleg',
  'Anna',
  'Liam',
  'Olivia',
  'Noah',
  'Emma',
  'Mateo',
  'Sofia',
  'Lucas',
  'Mia',
  'Ivan',
  'Elena',
  'Hiro',
  'Yuki',
  'Amir',
  'Leila',
  'Kwame',
  'Ama',
  'Lars',
  'Ingrid',
  'Diego',
  'Lucía',
  'Ravi',
  'Priya',
  'Chen',
  'Mei',
  'Omar',
  'Fatima',
  'Jonas',
  'Freya',
  'Pavel',
  'Olga',
  'James',
  'Mary',
  'John',
  'Patricia',
  'Robert',
  'Jennifer',
  'Michael',
  'Linda',
  'William',
  'Elizabeth',
  'David',
  'Barbara',
  'Richard',
  'Susan',
  'Joseph',
  'Jessica',
  'Thomas',
  'Sarah',
  'Charles',
  'Karen',
  'Daniel',
  'Nancy',
  'Matthew',
  'Lisa',
  'Anthony',
  'Betty',
  'Mark',
  'Margaret',
  'Paul',
  'Sandra',
  'Steven',
  'Ashley',
  'Andrew',
  'Kimberly',
  'Joshua',
  'Emily',
  'Kenneth',
  'Donna',
  'Kevin',
  'Michelle',
  'Brian',
  'Carol',
  'George',
  'Amanda',
  'Timothy',
  'Melissa',
  'Ronald',
  'Deborah',
  'Jason',
  'Stephanie',
  'Ryan',
  'Rebecca',
  'Jacob',
  'Laura',
  'Gary',
  'Sharon',
  'Nicholas',
  'Cynthia',
  'Eric',
  'Kathleen',
  'Jonathan',
  'Amy',
  'Stephen',
  'Angela',
  'Larry',
  'Shirley',
  'Justin',
  'Brenda',
  'Sergei',
  'Natalia',
  'Dmitri',
  'Tatiana',
  'Alexei',
  'Irina',
  'Mikhail',
  'Svetlana',
  'Andrei',
  'Ekaterina',
  'Jürgen',
  'Anneliese',
  'Klaus',
  'Birgit',
  'Stefan',
  'Katrin',
  'Matthias',
  'Sabine',
  'Tobias',
  'Ulrike',
  'François',
  'Amélie',
  'Pierre',
  'Camille',
  'Julien',
  'Chloé',
  'Antoine',
  'Léa',
  'Nicolas',
  'Manon',
  'Giuseppe',
  'Giulia',
  'Marco',
  'Francesca',
  'Luca',
  'Chiara',
  'Alessandro',
  'Martina',
  'José',
  'Carmen',
  'Javier',
  'Isabel',
  'Pablo',
  'Marta',
  'Alejandro',
  'Paula',
  'João',
  'Beatriz',
  'Tiago',
  'Inês',
  'Piotr',
  'Agnieszka',
  'Tomasz',
  'Katarzyna',
  'Jan',
  'Małgorzata',
  'Sven',
  'Astrid',
  'Nils',
  'Sigrid',
  'Mohammed',
  'Aisha',
  'Ali',
  'Zainab',
  'Hassan',
  'Mariam',
  'Yusuf',
  'Nour',
  'Arjun',
  'Ananya',
  'Vikram',
  'Kavya',
  'Rahul',
  'Divya',
  'Wei',
  'Xiu',
  'Jun',
  'Lan',
  'Takeshi',
  'Sakura',
  'Kenji',
  'Aiko',
  'Min-jun',
  'Ji-woo',
  'Seo-yeon',
  'Tuan',
  'Linh',
  'Chidi',
  'Ngozi',
  'Tunde',
  'Folake',
  'Kofi',
  'Abena',
  'Sipho',
  'Thandiwe',
  'Mateus',
  'Valentina',
  'Santiago',
  'Camila',
  'Emre',
];

const LAST_NAMES = [
  'Petrov',
  'Smith',
  'Novak',
  'Garcia',
  'Kim',
  'Müller',
  'Rossi',
  'Silva',
  'Haddad',
  'Okafor',
  'Tanaka',
  'Ivanova',
  'Johansson',
  'Patel',
  'Nguyen',
  'Kowalski',
  'Dubois',
  'Costa',
  'Andersen',
  'Moreau',
  'Schmidt',
  'Larsen',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Gonzalez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Jackson',
  'Martin',
  'Lee',
  'Perez',
  'Thompson',
  'White',
  'Harris',
  'Sanchez',
  'Clark',
  'Ramirez',
  'Lewis',
  'Robinson',
  'Walker',
  'Young',
  'Allen',
  'King',
  'Wright',
  'Scott',
  'Torres',
  'Hill',
  'Flores',
  'Green',
  'Adams',
  'Nelson',
  'Baker',
  'Hall',
  'Rivera',
  'Campbell',
  'Mitchell',
  'Carter',
  'Roberts',
  'Ivanov',
  'Smirnov',
  'Kuznetsov',
  'Popov',
  'Sokolov',
  'Lebedev',
  'Kozlov',
  'Morozov',
  'Volkov',
  'Fedorov',
  'Mikhailov',
  'Schneider',
  'Fischer',
  'Weber',
  'Meyer',
  'Wagner',
  'Becker',
  'Schulz',
  'Hoffmann',
  'Koch',
  'Richter',
  'Bernard',
  'Durand',
  'Lefebvre',
  'Leroy',
  'Roux',
  'Fournier',
  'Girard',
  'Bonnet',
  'Lambert',
  'Fontaine',
  'Russo',
  'Ferrari',
  'Esposito',
  'Bianchi',
  'Romano',
  'Colombo',
  'Ricci',
  'Marino',
  'Greco',
  'Bruno',
  'Fernández',
  'Gómez',
  'Díaz',
  'Moreno',
  'Muñoz',
  'Álvarez',
  'Romero',
  'Navarro',
  'Ruiz',
  'Serrano',
  'Santos',
  'Oliveira',
  'Pereira',
  'Ferreira',
  'Rodrigues',
  'Almeida',
  'Nowak',
  'Wiśniewski',
  'Wójcik',
  'Kamiński',
  'Lewandowski',
  'Zieliński',
  'Svensson',
  'Nilsson',
  'Eriksson',
  'Karlsson',
  'Hansen',
  'Jensen',
  'Nielsen',
  'Pedersen',
  'Khan',
  'Ahmed',
  'Hussein',
  'Rahman',
  'Aziz',
  'Sharma',
  'Singh',
  'Kumar',
  'Gupta',
  'Reddy',
  'Iyer',
  'Wang',
  'Li',
  'Zhang',
  'Liu',
  'Chen',
  'Yang',
  'Huang',
  'Zhao',
  'Wu',
  'Sato',
  'Suzuki',
  'Takahashi',
  'Watanabe',
  'Ito',
  'Yamamoto',
  'Nakamura',
  'Park',
  'Choi',
  'Jung',
  'Tran',
  'Le',
  'Pham',
  'Adeyemi',
  'Eze',
  'Mensah',
  'Boateng',
  'Dlamini',
  'Nkosi',
  'Mbeki',
  'Yilmaz',
  'Kaya',
  'Demir',
  'Çelik',
  "O'Brien",
  'Murphy',
  'Kelly',
  'Walsh',
  'Byrne',
  'Ryan',
  'Van der Berg',
  'De Vries',
  'Jansen',
  'Bakker',
  'Visser',
  'Horvat',
  'Kovač',
  'Popescu',
  'Ionescu',
  'Papadopoulos',
];

const EMAIL_DOMAINS = ['example.org', 'mail.example', 'inbox.example', 'post.example', 'shop-mail.example'];

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
];

const CONTACT_CHUNK = 100_000;
const AUDIT_BATCH = 20_000;
const ORDERS_API = 'http://localhost:4003';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** Lower-case ASCII for an email's local part ("Müller" → "muller", "O'Brien" → "obrien"). */
function slug(name: string): string {
  return name
    .normalize('NFD')
    .replace(/ł/g, 'l')
    .replace(/Ł/g, 'L')
    .replace(/[^A-Za-z-]/g, '')
    .toLowerCase();
}

function rate(count: number, ms: number): string {
  return `${Math.round(count / Math.max(ms / 1000, 0.001)).toLocaleString('en-US')}/s`;
}

interface Size {
  accounts: number;
  contacts: number;
  auditRows: number;
}

/** The shared customer hash: the demo customers' own when it is theirs, else a fresh one at the same cost. */
async function customerHash(client: pg.Client): Promise<string> {
  const rows = (
    await client.query<{ password_hash: string }>(
      `SELECT a.password_hash FROM account a JOIN account_role r ON r.account_id = a.id AND r.role = 'customer'
      WHERE a.password_hash LIKE '$2%' ORDER BY a.created_at LIMIT 1`,
    )
  ).rows;
  const existing = rows[0]?.password_hash;
  if (existing && (await bcrypt.compare(DEMO_PASSWORDS.customer, existing))) return existing;
  const cost = existing ? Number(existing.split('$')[2]) : Number(process.env.BCRYPT_COST ?? 12);
  return bcrypt.hash(DEMO_PASSWORDS.customer, cost);
}

async function seedPeople(client: pg.Client, size: Size, log: (line: string) => void): Promise<void> {
  const stores = (await client.query<{ id: string; slug: string }>(`SELECT id, slug FROM store ORDER BY slug`)).rows;
  if (!stores.length) throw new Error('no stores: seed the demo data first');
  if (size.accounts > size.contacts * stores.length) {
    throw new Error(
      `${size.accounts} accounts need at least ${Math.ceil(size.accounts / stores.length)} contacts (one account per contact and store, ${stores.length} stores)`,
    );
  }
  const hash = await customerHash(client);
  // Numbers in the emails continue after every contact already there, so a second run adds distinct people.
  const base = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM contact`)).rows[0]!.n);
  log(
    `people: ${size.contacts} contacts, ${size.accounts} accounts over ${stores.map((s) => s.slug).join(', ')} (emails numbered from ${base + 1})`,
  );

  await client.query(`
    CREATE TEMP TABLE IF NOT EXISTS scale_person (
      n bigint PRIMARY KEY, id uuid NOT NULL, first_name text NOT NULL, last_name text NOT NULL,
      email text NOT NULL, phone text NOT NULL, store int NOT NULL, created_at timestamptz NOT NULL)`);
  const params = [FIRST_NAMES, LAST_NAMES, FIRST_NAMES.map(slug), LAST_NAMES.map(slug), EMAIL_DOMAINS];
  const started = Date.now();
  let accountsDone = 0;
  for (let lo = 1; lo <= size.contacts; lo += CONTACT_CHUNK) {
    const hi = Math.min(lo + CONTACT_CHUNK - 1, size.contacts);
    await client.query('BEGIN');
    try {
      await client.query('TRUNCATE scale_person');
      // Independent hashes of the number pick the first name, the last name, the domain, the home store and the age.
      await client.query(
        `INSERT INTO scale_person (n, id, first_name, last_name, email, phone, store, created_at)
         SELECT n, gen_random_uuid(), ($1::text[])[1 + f], ($2::text[])[1 + l],
                ($3::text[])[1 + f] || '.' || ($4::text[])[1 + l] || '.' || n || '@' || ($5::text[])[1 + (h3 % cardinality($5::text[]))],
                '+1 ' || (201 + h3 % 798) || ' ' || substr(lpad((n % 10000000)::text, 7, '0'), 1, 3) || ' ' || substr(lpad((n % 10000000)::text, 7, '0'), 4, 4),
                h4 % ${stores.length},
                now() - make_interval(secs => (h4 % (3 * 365 * 86400))::float8)
           FROM (SELECT n,
                        (hashint8extended(n, 1) & 2147483647) % cardinality($1::text[]) AS f,
                        (hashint8extended(n, 2) & 2147483647) % cardinality($2::text[]) AS l,
                        hashint8extended(n, 3) & 2147483647 AS h3,
                        hashint8extended(n, 4) & 2147483647 AS h4
                   FROM generate_series($6::bigint, $7::bigint) AS n) AS g`,
        [...params, base + lo, base + hi],
      );
      await client.query(
        `INSERT INTO contact (id, first_name, last_name, display_name, emails, phones, created_at, updated_at)
         SELECT id, first_name, last_name, first_name || ' ' || last_name, ARRAY[email], ARRAY[phone], created_at, created_at
           FROM scale_person ORDER BY n`,
      );
      // Account number k * contacts + i is contact i's login at its (home + k)-th store.
      for (let round = 0; round * size.contacts + lo <= size.accounts; round += 1) {
        const last = Math.min(hi, size.accounts - round * size.contacts);
        const inserted = await client.query(
          `WITH added AS (
             INSERT INTO account (store_id, contact_id, username, email, display_name, password_hash, status, password_changed_at, last_login_at, created_at, updated_at)
             SELECT ($1::uuid[])[1 + (p.store + $2) % cardinality($1::uuid[])], p.id, p.email, p.email, p.first_name || ' ' || p.last_name, $3,
                    CASE hashint8extended(p.n, 5) & 1023 WHEN 0 THEN 'disabled' WHEN 1 THEN 'locked' ELSE 'active' END,
                    p.created_at,
                    CASE WHEN hashint8extended(p.n, 6) & 3 = 0 THEN NULL ELSE p.created_at + (now() - p.created_at) * ((hashint8extended(p.n, 7) & 1023) / 1024.0) END,
                    p.created_at, p.created_at
               FROM scale_person p WHERE p.n BETWEEN $4 AND $5 ORDER BY p.n
             RETURNING id)
           INSERT INTO account_role (account_id, role) SELECT id, 'customer' FROM added`,
          [stores.map((s) => s.id), round, hash, base + lo, base + last],
        );
        accountsDone += inserted.rowCount ?? 0;
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
    log(
      `people: ${hi}/${size.contacts} contacts, ${accountsDone}/${size.accounts} accounts (${rate(hi + accountsDone, Date.now() - started)} rows)`,
    );
  }
  await client.query('DROP TABLE IF EXISTS scale_person');
  const ms = Date.now() - started;
  log(`people: done in ${(ms / 1000).toFixed(1)} s: ${rate(size.contacts, ms)} contacts, ${rate(size.accounts, ms)} accounts`);
}

/** A small, deterministic PRNG (mulberry32): the same trail shape on every run, without Math.random's cost. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Population {
  customers: { id: string; username: string; storeSlug: string; storeId: string }[];
  agents: string[];
  storefronts: Map<string, string>;
}

async function population(client: pg.Client): Promise<Population> {
  // A random sample of customers (an index-ordered slice would cluster in time): ids hash-ordered, capped.
  const sample = (
    await client.query<{ id: string; username: string; slug: string; store_id: string }>(
      `SELECT a.id, a.username, s.slug, a.store_id FROM account a JOIN store s ON s.id = a.store_id
      WHERE a.status = 'active' AND a.password_hash IS NOT NULL ORDER BY md5(a.id::text) LIMIT 20000`,
    )
  ).rows;
  if (!sample.length) throw new Error('no customer accounts to audit');
  const agents = (
    await client.query<{ account_id: string }>(
      `SELECT DISTINCT account_id FROM permission_grant WHERE permission = 'security:loginOnBehalf' ORDER BY account_id`,
    )
  ).rows.map((row) => row.account_id);
  const storefronts = new Map(
    (
      await client.query<{ client_id: string; store: string }>(
        `SELECT client_id, metadata->>'store' AS store FROM oauth_client WHERE metadata->>'client_kind' = 'storefront'`,
      )
    ).rows.map((row) => [row.store, row.client_id]),
  );
  return {
    customers: sample.map((row) => ({ id: row.id, username: row.username, storeSlug: row.slug, storeId: row.store_id })),
    agents,
    storefronts,
  };
}

/** An event as Behalf stores it, before the chain gives it its seq and hashes. */
type GeneratedEvent = Omit<AuditEvent, 'seq' | 'prevHash' | 'hash' | 'qid' | 'leafHash'>;

/** Ids as Behalf's libraries make them: oidc-provider's 21-character ids, 43-character jtis. */
function tokenId(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

function eventMaker(people: Population, random: () => number) {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const ip = () => (random() < 0.5 ? `203.0.113.${1 + Math.floor(random() * 254)}` : `198.51.100.${1 + Math.floor(random() * 254)}`);
  const storefront = (slug: string) => people.storefronts.get(slug) ?? `storefront-${slug}`;

  return (occurredAt: Date): GeneratedEvent => {
    const customer = pick(people.customers);
    const clientId = storefront(customer.storeSlug);
    const base = {
      id: randomUUID(),
      occurredAt,
      actor: customer.id,
      subject: customer.id,
      clientId,
      sessionId: null,
      ip: ip(),
      userAgent: pick(USER_AGENTS),
    };
    const roll = random();
    if (roll < 0.42) {
      const grantType = random() < 0.6 ? 'refresh_token' : 'authorization_code';
      return {
        ...base,
        // The browser session's uid (oidc-provider's sessionUid).
        sessionId: tokenId(16),
        type: 'token.issued',
        details: {
          grant_type: grantType,
          scope: 'openid profile email offline_access',
          expires_in: 3600,
          grant_id: tokenId(16),
          refresh_token: true,
          id_token: true,
          access_token_format: 'opaque',
          token_ref: tokenId(16).slice(0, 22),
        },
      };
    }
    if (roll < 0.55) return { ...base, type: 'auth.login.succeeded', details: { amr: ['pwd'] } };
    if (roll < 0.6) {
      const known = random() < 0.8;
      return {
        ...base,
        type: 'auth.login.failed',
        actor: known ? customer.id : null,
        subject: known ? customer.id : null,
        details: { reason: 'invalid_credentials', username: known ? customer.username : `unknown.${tokenId(4).toLowerCase()}@example.org` },
      };
    }
    if (roll < 0.65) {
      return {
        ...base,
        type: 'consent.granted',
        details: {
          grant_id: tokenId(16),
          implicit: true,
          scopes: ['openid', 'profile', 'email', 'offline_access'],
          claims: ['sub', 'name', 'email'],
          resources: {},
        },
      };
    }
    if (roll < 0.72) return { ...base, type: 'auth.logout', details: { everywhere: random() < 0.1 } };
    if (roll < 0.86) {
      return {
        ...base,
        actor: 'client:integrator-demo',
        subject: null,
        clientId: 'integrator-demo',
        userAgent: 'node',
        type: 'token.issued',
        details: {
          grant_type: 'client_credentials',
          scope: 'orders:read',
          expires_in: 600,
          refresh_token: false,
          id_token: false,
          access_token_format: 'jwt',
          jti: tokenId(32),
          audience: ORDERS_API,
        },
      };
    }
    const agent = people.agents.length ? pick(people.agents) : customer.id;
    const session = randomUUID();
    if (roll < 0.9) {
      const expiresAt = new Date(occurredAt.getTime() + 30 * 60_000);
      return {
        ...base,
        actor: agent,
        sessionId: session,
        type: 'on_behalf.started',
        details: {
          reason: 'Customer called about a missing order',
          ticket: `SUP-${1000 + Math.floor(random() * 90000)}`,
          store_id: customer.storeId,
          expires_at: expiresAt.toISOString(),
          reauthenticated_at: new Date(occurredAt.getTime() - 20_000).toISOString(),
          audience: ORDERS_API,
          scope: 'orders:read orders:write',
        },
      };
    }
    if (roll < 0.97) {
      return {
        ...base,
        actor: agent,
        sessionId: session,
        type: 'token.issued',
        details: {
          grant_type: TOKEN_EXCHANGE,
          mode: 'on_behalf',
          audience: ORDERS_API,
          scope: 'orders:read orders:write',
          expires_in: 600,
          issued_token_type: ACCESS_TOKEN_TYPE,
          jti: tokenId(32),
        },
      };
    }
    return {
      ...base,
      actor: agent,
      sessionId: session,
      type: 'on_behalf.ended',
      details: {
        reason: random() < 0.7 ? 'agent_ended' : 'expired',
        agent,
        started_at: new Date(occurredAt.getTime() - 600_000).toISOString(),
      },
    };
  };
}

interface Head {
  seq: number;
  hash: string;
}

async function readHead(client: pg.Client): Promise<Head & { occurredAt?: Date }> {
  const row = (
    await client.query<{ seq: string; hash: string; occurred_at: Date }>(
      `SELECT seq, coalesce(hash, leaf_hash) AS hash, occurred_at FROM audit_event WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1`,
    )
  ).rows[0];
  return row ? { seq: Number(row.seq), hash: row.hash, occurredAt: row.occurred_at } : { seq: 0, hash: GENESIS_HASH };
}

/** COPY's text format: backslash escapes for the few characters that delimit, `\\N` for NULL. */
function copyField(value: string | number | null): string {
  if (value === null) return '\\N';
  return String(value).replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** Sequenced log rows (the Merkle log's shape, README "Audit log"): Behalf's sequencer builds the tree over them when it starts. */
const COPY_AUDIT = `COPY audit_event (seq, qid, id, occurred_at, type, actor, subject, client_id, session_id, ip, user_agent, details, content_hash, leaf_hash) FROM STDIN`;

/** One batch, in its own transaction under the chain lock; refuses to append if anyone else moved the head. */
async function appendBatch(client: pg.Client, expected: Head, lines: string): Promise<void> {
  await client.query('BEGIN');
  try {
    // The lock audit_event_sequence() takes: no sequencer can interleave.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('audit_event_sequence'))`);
    const head = await readHead(client);
    if (head.seq !== expected.seq) {
      throw new Error(`the audit head moved (now seq ${head.seq}, expected ${expected.seq}): is Behalf running? Stop it before seeding.`);
    }
    await pipeline(Readable.from([lines]), client.query(copyFrom(COPY_AUDIT)));
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}

async function seedAudit(client: pg.Client, count: number, log: (line: string) => void, spanDays = 30): Promise<void> {
  const people = await population(client);
  const make = eventMaker(people, prng(0x5eed));
  const start = await readHead(client);
  const now = Date.now();
  const from = Math.min(now, start.occurredAt ? start.occurredAt.getTime() + 1 : now - spanDays * 86_400_000);
  const step = (now - from) / count;
  log(`audit: ${count} events after seq ${start.seq}, ${new Date(from).toISOString()} to ${new Date(now).toISOString()}`);

  const started = Date.now();
  let head: Head = { seq: start.seq, hash: start.hash };
  let pending: Promise<void> | undefined;
  let nextLog = 500_000;
  for (let done = 0; done < count;) {
    const size = Math.min(AUDIT_BATCH, count - done);
    const lines: string[] = [];
    const batchStart: Head = head;
    // A block of queue ids, as if these events had been appended and sequenced one by one.
    const { rows: reserved } = await client.query<{ first: string }>(
      `SELECT setval('audit_event_qid_seq', nextval('audit_event_qid_seq') + $1 - 1) - $1 + 1 AS first`,
      [size],
    );
    const firstQid = Number(reserved[0]!.first);
    let prev = head.hash;
    for (let i = 0; i < size; i += 1) {
      // Let the event loop drive the previous batch's statements (BEGIN, lock, head, COPY, COMMIT) meanwhile.
      if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
      const seq = head.seq + i + 1;
      // Millisecond precision, as the writer stores it; never before the previous event.
      const event = make(new Date(Math.floor(from + (done + i) * step)));
      const content = contentHash(event);
      const qid = firstQid + i;
      const leaf = eventLeafHash({ ...event, seq, qid, hash: null });
      const fields = [
        seq,
        qid,
        event.id,
        event.occurredAt.toISOString(),
        event.type,
        event.actor,
        event.subject,
        event.clientId,
        event.sessionId,
        event.ip,
        event.userAgent,
        JSON.stringify(event.details),
        content,
        leaf,
      ];
      lines.push(`${fields.map(copyField).join('\t')}\n`);
      prev = leaf;
    }
    // The next batch is built while this one is written (PostgreSQL and Node on separate cores).
    await pending;
    pending = appendBatch(client, batchStart, lines.join(''));
    head = { seq: head.seq + size, hash: prev };
    done += size;
    if (done >= nextLog || done === count) {
      nextLog += 500_000;
      log(`audit: ${done}/${count} events (${rate(done, Date.now() - started)})`);
    }
  }
  await pending;
  const ms = Date.now() - started;
  log(
    `audit: done in ${(ms / 1000).toFixed(1)} s (${rate(count, ms)}); head now seq ${head.seq}. Behalf's sequencer builds the tree over them; \`behalf audit checkpoint\` signs a head.`,
  );
}

export async function seedScale(
  databaseUrl: string,
  size: { accounts: number; contacts: number; auditRows: number },
  log: (line: string) => void = () => {},
): Promise<void> {
  for (const [name, value] of Object.entries(size)) {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a whole number ≥ 0`);
  }
  if (size.accounts > 0 && size.contacts === 0) throw new Error('accounts need contacts');
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'behalf-scale-data' });
  await client.connect();
  try {
    if (size.contacts > 0) {
      await seedPeople(client, size, log);
      const started = Date.now();
      await client.query('VACUUM (ANALYZE) contact');
      await client.query('VACUUM (ANALYZE) account');
      await client.query('VACUUM (ANALYZE) account_role');
      log(`people: vacuum and analyze in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    if (size.auditRows > 0) {
      await seedAudit(client, size.auditRows, log);
      const started = Date.now();
      await client.query('VACUUM (ANALYZE) audit_event');
      log(`audit: vacuum and analyze in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    await client.end();
  }
}

function parseArgs(argv: string[]): { url: string; size: Size } {
  const [url, ...rest] = argv;
  if (!url || url.startsWith('--')) throw new Error('usage: scale-data <databaseUrl> --accounts N [--contacts N] [--audit-rows N]');
  const options: Record<string, number> = {};
  for (let i = 0; i < rest.length; i += 2) {
    const name = rest[i]!;
    const value = rest[i + 1];
    if (!['--accounts', '--contacts', '--audit-rows'].includes(name) || value === undefined || !/^\d[\d_]*$/.test(value)) {
      throw new Error(`bad option ${name} ${value ?? ''}: use --accounts N, --contacts N, --audit-rows N`);
    }
    options[name] = Number(value.replace(/_/g, ''));
  }
  const accounts = options['--accounts'] ?? 0;
  return { url, size: { accounts, contacts: options['--contacts'] ?? accounts, auditRows: options['--audit-rows'] ?? 0 } };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const { url, size } = parseArgs(process.argv.slice(2));
    await seedScale(url, size, (line) => console.log(`${new Date().toISOString()} ${line}`));
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 1;
  }
}
