/**
 * The admin CLI, run in-process through runCli against a fresh demo-seeded
 * database (one spawn of the built binary proves the real entry point).
 * Side effects are checked through the services, not only the CLI's own words.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadConfig } from '../../config/load.js';
import { buildProgram, runCli } from '../../src/cli/index.js';
import { CliContext } from '../../src/cli/context.js';
import { createServices, type Services } from '../../src/server/system.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { eventually } from '../support/poll.js';
import { CLIENT_CACHE_MS } from '../../src/server/clients/client-repository.js';

let db: TestDatabase;
let services: Services;

beforeAll(async () => {
  db = await createTestDatabase();
  services = await createServices(loadConfig({ env: { NODE_ENV: 'test', DATABASE_URL: db.url } }));
});
afterAll(async () => {
  await services?.database.close();
  await db?.drop();
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cliWith(env: NodeJS.ProcessEnv, ...argv: string[]): Promise<Result> {
  const result = { code: 0, stdout: '', stderr: '' };
  const io = { stdout: { write: (text: string) => (result.stdout += text) }, stderr: { write: (text: string) => (result.stderr += text) } };
  result.code = await runCli(argv, io, { env });
  return result;
}

const cli = (...argv: string[]) => cliWith({ NODE_ENV: 'test', DATABASE_URL: db.url }, ...argv);

async function json<T>(...argv: string[]): Promise<T> {
  const result = await cli(...argv, '--json');
  expect(result).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(result.stdout) as T;
}

/** A failure is exactly one `behalf: …` line on stderr, nothing on stdout, exit code 1. */
function expectOneLineError(result: Result, message: string | RegExp): void {
  expect(result.code).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  expect(result.stderr).toMatch(/^behalf: /);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('help', () => {
  it('documents every command with examples', async () => {
    const root = await cli('--help');
    expect(root.code).toBe(0);
    for (const group of ['migrate', 'seed', 'clients', 'resource-servers', 'stores', 'accounts', 'permissions', 'keys'])
      expect(root.stdout).toContain(group);

    const program = buildProgram(new CliContext({ stdout: { write: () => true }, stderr: { write: () => true } }, {}));
    const paths = program.commands.flatMap((group) => [[group.name()], ...group.commands.map((command) => [group.name(), command.name()])]);
    expect(paths.length).toBeGreaterThan(30);
    for (const path of paths) {
      const help = await cli(...path, '--help');
      expect({ path, code: help.code }).toEqual({ path, code: 0 });
      expect(help.stdout).toContain('Examples:');
      expect(help.stdout).toContain(`$ npm run cli -- `);
    }
  });

  it('rejects an unknown command with one line and exit code 1', async () => {
    const result = await cli('frobnicate');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^behalf: unknown command 'frobnicate'/);
  });
});

describe('database commands', () => {
  it('migrate reports an up-to-date schema', async () => {
    expect(await cli('migrate')).toMatchObject({ code: 0, stdout: 'database schema is up to date\n' });
  });

  it('seed --demo is idempotent', async () => {
    const result = await cli('seed', '--demo');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/staff:\s+0 new/);
    expect(result.stdout).toMatch(/customer logins:\s+0 new/);
    expect(result.stdout).toMatch(/clients:\s+0 created/);
  });

  it('a database it cannot reach is one clear line', async () => {
    expectOneLineError(
      await cliWith({ NODE_ENV: 'test', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }, 'stores', 'list'),
      /cannot connect to PostgreSQL at postgres:\/\/nobody@127\.0\.0\.1:1\/none/,
    );
  });

  it('a configuration mistake is one clear line', async () => {
    expectOneLineError(
      await cliWith({ NODE_ENV: 'test', DATABASE_URL: db.url, PORT: 'eighty' }, 'stores', 'list'),
      /^behalf: config: .*PORT.*must be a number, got "eighty"\n$/,
    );
  });
});

describe('clients', () => {
  it('create prints a generated secret once; list and show never print it', async () => {
    const created = await cli(
      'clients',
      'create',
      'cli-shop',
      '--name',
      'CLI shop',
      '--store',
      'books',
      '--first-party',
      '--redirect-uri',
      'https://shop.example.com/cb',
      '--scope',
      'openid  profile',
      '--resource',
      'http://localhost:4003',
    );
    expect(created.code).toBe(0);
    const secret = /^client_secret: ([A-Za-z0-9_-]{43})$/m.exec(created.stdout)?.[1];
    expect(secret).toBeDefined();
    expect(created.stdout.split(secret!)).toHaveLength(2);
    expect((await services.clients.findForProvider('cli-shop'))?.client_secret).toBe(secret);

    const shown = await cli('clients', 'show', 'cli-shop');
    expect(shown.stdout).toMatch(/^kind:\s+storefront$/m);
    expect(shown.stdout).toMatch(/^secret:\s+set \(not shown\)$/m);
    const shownJson = await json<Record<string, unknown>>('clients', 'show', 'cli-shop');
    expect(shownJson).toMatchObject({
      client_id: 'cli-shop',
      client_kind: 'storefront',
      store: 'books',
      first_party: true,
      scope: 'openid profile',
      grant_types: ['authorization_code', 'refresh_token'],
      allowed_resources: ['http://localhost:4003'],
      has_secret: true,
    });
    expect(shownJson).not.toHaveProperty('client_secret');
    const listed = await cli('clients', 'list');
    expect(listed.stdout).toMatch(/^cli-shop\s+storefront\s+books\s+confidential/m);
    for (const output of [shown.stdout, JSON.stringify(shownJson), listed.stdout, (await cli('clients', 'list', '--json')).stdout])
      expect(output).not.toContain(secret);

    expectOneLineError(await cli('clients', 'create', 'cli-shop', '--store', 'books'), 'behalf: client cli-shop already exists');
  });

  it('rotate-secret prints a new secret once and keeps the metadata', async () => {
    await cli('clients', 'create', 'cli-rotate', '--resource', 'http://localhost:4003');
    const before = await json<Record<string, unknown>>('clients', 'show', 'cli-rotate');
    const oldSecret = (await services.clients.findForProvider('cli-rotate'))!.client_secret;
    const rotated = await cli('clients', 'rotate-secret', 'cli-rotate');
    expect(rotated.code).toBe(0);
    const secret = /^client_secret: (\S+)$/m.exec(rotated.stdout)![1];
    expect(secret).not.toBe(oldSecret);
    // The CLI wrote through its own services: this process's client cache sees it within CLIENT_CACHE_MS.
    await eventually(async () => (await services.clients.findForProvider('cli-rotate'))!.client_secret === secret, {
      timeoutMs: CLIENT_CACHE_MS + 500,
      intervalMs: 50,
      what: 'the rotated secret seen by another process within the client cache bound',
    });
    const after = await json<Record<string, unknown>>('clients', 'show', 'cli-rotate');
    expect(after.secret_rotated_at).toEqual(expect.any(String));
    expect({ ...after, updated_at: null, secret_rotated_at: null }).toEqual({ ...before, updated_at: null });
  });

  it('creates public and operating clients', async () => {
    const spa = await cli('clients', 'create', 'cli-spa', '--store', 'books', '--public', '--redirect-uri', 'https://spa.example.com/cb');
    expect(spa).toMatchObject({ code: 0, stderr: '' });
    expect(spa.stdout).not.toContain('client_secret');
    expect(await json('clients', 'show', 'cli-spa')).toMatchObject({ token_endpoint_auth_method: 'none', has_secret: false });
    expectOneLineError(await cli('clients', 'rotate-secret', 'cli-spa'), 'is a public client');

    expect((await cli('clients', 'create', 'cli-api', '--operates', 'http://localhost:4003')).code).toBe(0);
    expect(await json('clients', 'show', 'cli-api')).toMatchObject({
      grant_types: ['client_credentials'],
      response_types: [],
      resource_servers: ['http://localhost:4003'],
    });
  });

  it('invalid metadata is one line and exit code 1, and nothing is saved', async () => {
    expectOneLineError(
      await cli('clients', 'create', 'cli-bad', '--kind', 'backoffice', '--redirect-uri', 'not a uri'),
      /^behalf: client cli-bad: redirect_uris must only contain valid uris\n$/,
    );
    expectOneLineError(
      await cli('clients', 'create', 'cli-bad', '--resource', 'https://unknown.example.com'),
      'unknown resource server https://unknown.example.com',
    );
    expectOneLineError(
      await cli('clients', 'create', 'cli-bad', '--store', 'nowhere', '--redirect-uri', 'https://x.example.com/cb'),
      'unknown store nowhere',
    );
    expectOneLineError(
      await cli('clients', 'create', 'cli-bad', '--public', '--grant-type', 'client_credentials'),
      'cannot use the client_credentials grant',
    );
    expectOneLineError(await cli('clients', 'create', 'cli-bad', '--kind', 'robot'), /argument 'robot' is invalid/);
    expect(await services.clients.findForProvider('cli-bad')).toBeUndefined();
  });

  it('delete removes the client', async () => {
    await cli('clients', 'create', 'cli-gone');
    expect(await cli('clients', 'delete', 'cli-gone')).toMatchObject({ code: 0, stdout: 'client cli-gone deleted\n' });
    expect(await services.clients.findForProvider('cli-gone')).toBeUndefined();
    expectOneLineError(await cli('clients', 'show', 'cli-gone'), 'behalf: no client cli-gone\n');
    expectOneLineError(await cli('clients', 'delete', 'cli-gone'), 'behalf: no client cli-gone\n');
  });
});

describe('resource servers and stores', () => {
  it('creates, lists and deletes', async () => {
    expect((await cli('stores', 'create', 'garden', '--name', 'Garden', '--base-url', 'https://garden.example.com')).stdout).toMatch(
      /^store garden created/,
    );
    expect(await json('stores', 'list')).toEqual(
      expect.arrayContaining([expect.objectContaining({ slug: 'garden', name: 'Garden', base_url: 'https://garden.example.com' })]),
    );

    expect(
      (
        await cli(
          'resource-servers',
          'create',
          'https://ledger.example.com',
          '--name',
          'Ledger',
          '--format',
          'opaque',
          '--scope',
          'ledger:read',
          'ledger:write',
          '--ttl',
          '300',
        )
      ).code,
    ).toBe(0);
    expect(await json('resource-servers', 'list')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          identifier: 'https://ledger.example.com',
          token_format: 'opaque',
          scopes: ['ledger:read', 'ledger:write'],
          access_token_ttl: 300,
        }),
      ]),
    );
    expectOneLineError(await cli('resource-servers', 'delete', 'http://localhost:4003'), /used by client\(s\) .*integrator-demo/);
    expect((await cli('resource-servers', 'delete', 'https://ledger.example.com')).code).toBe(0);
    expectOneLineError(await cli('resource-servers', 'delete', 'https://ledger.example.com'), 'no resource server');
  });
});

describe('accounts and permissions', () => {
  const permissionStores = async (email: string) =>
    (await json<{ permissions: { store: string | null }[] }>('permissions', 'list', email)).permissions
      .map((grant) => grant.store ?? '*')
      .sort();

  it('creates a staff account and grants and revokes login on behalf per store', async () => {
    const created = await cli('accounts', 'create', '--email', 'cli-agent@example.com', '--name', 'Cli Agent', '--role', 'support');
    expect(created.code).toBe(0);
    const password = /^password: (\S+)$/m.exec(created.stdout)![1]!;
    expect((await services.accounts.signIn({ kind: 'backoffice' }, 'cli-agent@example.com', password)).ok).toBe(true);
    expect(await permissionStores('cli-agent@example.com')).toEqual([]);

    expect((await cli('permissions', 'grant', 'cli-agent@example.com', 'security:loginOnBehalf', '--store', 'books')).code).toBe(0);
    expect((await cli('permissions', 'grant', 'cli-agent@example.com', 'security:loginOnBehalf', '--store', 'electronics')).code).toBe(0);
    expect(await permissionStores('cli-agent@example.com')).toEqual(['books', 'electronics']);
    expect((await cli('permissions', 'revoke', 'cli-agent@example.com', 'security:loginOnBehalf', '--store', 'books')).stdout).toMatch(
      /no longer holds/,
    );
    expect(await permissionStores('cli-agent@example.com')).toEqual(['electronics']);
    expect((await cli('permissions', 'grant', 'cli-agent@example.com', 'security:loginOnBehalf', '--all-stores')).code).toBe(0);
    expect(await permissionStores('cli-agent@example.com')).toEqual(['*', 'electronics']);
    expect(
      (await cli('permissions', 'revoke', 'cli-agent@example.com', 'security:loginOnBehalf', '--store', 'electronics')).stdout,
    ).toMatch(/still holds security:loginOnBehalf for all stores/);

    expectOneLineError(
      await cli('permissions', 'grant', 'cli-agent@example.com', 'security:loginOnBehalf'),
      '--store <slug> or --all-stores',
    );
    expectOneLineError(
      await cli('permissions', 'grant', 'anna@example.com', 'security:loginOnBehalf', '--store', 'books'),
      'not a staff account',
    );
    expectOneLineError(
      await cli('accounts', 'create', '--email', 'cli-agent@example.com', '--name', 'Again', '--role', 'support'),
      'already exists among staff',
    );
  });

  it('creates customer accounts in a store, and refuses roles that do not fit', async () => {
    const created = await cli(
      'accounts',
      'create',
      '--email',
      'cli-customer@example.org',
      '--name',
      'Cli Customer',
      '--store',
      'books',
      '--role',
      'customer',
      '--password',
      'Customer-Cli-2026',
    );
    expect(created.stdout).not.toContain('password:');
    expect(await json('accounts', 'show', 'cli-customer@example.org')).toMatchObject({
      storeSlug: 'books',
      roles: ['customer'],
      status: 'active',
      hasPassword: true,
    });
    expectOneLineError(
      await cli('accounts', 'create', '--email', 'x@example.org', '--name', 'X', '--role', 'customer'),
      'the customer role is for store accounts',
    );
    expectOneLineError(
      await cli('accounts', 'create', '--email', 'x@example.org', '--name', 'X', '--store', 'books', '--role', 'admin'),
      'can hold only the customer role',
    );
    expectOneLineError(
      await cli(
        'accounts',
        'create',
        '--email',
        'x@example.org',
        '--name',
        'X',
        '--store',
        'books',
        '--role',
        'customer',
        '--password',
        'short',
      ),
      'behalf: password must be at least 10 characters',
    );
  });

  it('show never prints the password hash; list filters', async () => {
    const shown = await cli('accounts', 'show', 'support@example.com');
    expect(shown.stdout).toMatch(/^permissions:\s+security:loginOnBehalf \((books|electronics)\), security:loginOnBehalf/m);
    const details = await json<Record<string, unknown>>('accounts', 'show', 'support@example.com');
    expect(JSON.stringify(details) + shown.stdout).not.toMatch(/\$2[aby]\$/);
    expect(details).not.toHaveProperty('passwordHash');

    const staff = await json<{ total: number; accounts: { username: string; store: string | null }[] }>('accounts', 'list', '--staff');
    expect(staff.accounts.every((account) => account.store === null)).toBe(true);
    expect(staff.accounts.map((account) => account.username)).toContain('admin@example.com');
    const books = await json<{ total: number; accounts: { store: string }[] }>(
      'accounts',
      'list',
      '--store',
      'books',
      '--role',
      'customer',
      '--limit',
      '5',
    );
    expect(books.accounts).toHaveLength(5);
    expect(books.total).toBeGreaterThan(5);
    expect(books.accounts.every((account) => account.store === 'books')).toBe(true);
  });

  it('disable, enable (clears a lockout) and reset-password', async () => {
    const account = (await services.accounts.findByUsername(null, 'viewer@example.com'))!;
    expect((await cli('accounts', 'disable', 'viewer@example.com')).stdout).toBe('account viewer@example.com (staff) disabled\n');
    expect(await json('accounts', 'show', account.id)).toMatchObject({ status: 'disabled' });
    expect((await services.accounts.signIn({ kind: 'backoffice' }, 'viewer@example.com', 'Support-Demo-2026')).ok).toBe(false);

    await services.dataSource.query(`UPDATE account SET locked_until = now() + interval '1 hour' WHERE id = $1`, [account.id]);
    expect((await cli('accounts', 'enable', account.id)).code).toBe(0);
    expect(await json('accounts', 'show', 'viewer@example.com')).toMatchObject({ status: 'active', locked: false, lockedUntil: null });

    const reset = await cli('accounts', 'reset-password', 'viewer@example.com');
    const password = /^password: (\S+)$/m.exec(reset.stdout)![1]!;
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect((await services.accounts.signIn({ kind: 'backoffice' }, 'viewer@example.com', password)).ok).toBe(true);
    expect((await services.accounts.signIn({ kind: 'backoffice' }, 'viewer@example.com', 'Support-Demo-2026')).ok).toBe(false);
  });

  it('unlock ends a lockout, with a reason in the audit trail; permissions take a reason too', async () => {
    const electronics = (await services.stores.findBySlug('electronics'))!;
    const anna = (await services.accounts.findByUsername(electronics.id, 'anna@example.com'))!;
    await services.dataSource.query(`UPDATE account SET locked_until = now() + interval '1 hour' WHERE id = $1`, [anna.id]);
    const unlocked = await cli('accounts', 'unlock', 'anna@example.com', '--store', 'electronics', '--reason', 'Verified by phone');
    expect(unlocked.stdout).toBe('account anna@example.com (store electronics) unlocked\n');
    expect((await services.audit.events.query({ type: 'admin.account.unlocked', subject: anna.id })).events[0]).toMatchObject({
      details: { reason: 'Verified by phone' },
    });
    expect((await cli('accounts', 'unlock', anna.id)).stdout).toMatch(/was not locked; nothing changed/);

    const vic = (await services.accounts.findByUsername(null, 'viewer@example.com'))!;
    await cli('permissions', 'grant', 'viewer@example.com', 'security:loginOnBehalf', '--store', 'books', '--reason', 'Covering for Bea');
    expect((await services.audit.events.query({ type: 'admin.permission.granted', subject: vic.id })).events[0]).toMatchObject({
      details: { store: 'Books', reason: 'Covering for Bea' },
    });
  });

  it('add-role and remove-role', async () => {
    expect((await cli('accounts', 'add-role', 'books-support@example.com', 'admin')).stdout).toMatch(/now holds the admin role/);
    expect(await json('accounts', 'show', 'books-support@example.com')).toMatchObject({ roles: ['admin', 'support'] });
    expect((await cli('accounts', 'remove-role', 'books-support@example.com', 'admin')).stdout).toMatch(/no longer holds the admin role/);
    expect(await json('accounts', 'show', 'books-support@example.com')).toMatchObject({ roles: ['support'] });
  });

  it('names unknown and ambiguous accounts', async () => {
    expectOneLineError(await cli('accounts', 'show', 'nobody@example.com'), 'behalf: no account nobody@example.com\n');
    expectOneLineError(
      await cli('accounts', 'disable', '00000000-0000-4000-8000-000000000000'),
      'behalf: no account 00000000-0000-4000-8000-000000000000\n',
    );
    expectOneLineError(
      await cli('accounts', 'show', 'oleg@example.com'),
      'oleg@example.com is ambiguous: it has accounts in stores books, electronics; pass --store <slug>',
    );
    expect(await json('accounts', 'show', 'oleg@example.com', '--store', 'electronics')).toMatchObject({ storeSlug: 'electronics' });
    expectOneLineError(await cli('accounts', 'show', 'oleg@example.com', '--store', 'garden-gone'), 'unknown store garden-gone');
  });
});

describe('keys', () => {
  interface KeyJson {
    kid: string;
    alg: string;
    status: string;
  }
  const statusOf = async (kid: string) => (await json<KeyJson[]>('keys', 'list')).find((key) => key.kid === kid)?.status;

  async function rotate(): Promise<string> {
    const result = await cli('keys', 'rotate', '--alg', 'ES256');
    expect(result.code).toBe(0);
    const kid = /^published ES256 key (\S+):/.exec(result.stdout)![1]!;
    expect(result.stdout).toContain(`keys activate ${kid}`);
    return kid;
  }

  it('rotate → activate → retire', async () => {
    const first = await rotate();
    expect(await statusOf(first)).toBe('published');
    expect((await cli('keys', 'activate', first)).code).toBe(0);
    expect(await statusOf(first)).toBe('active');

    const second = await rotate();
    const activated = await cli('keys', 'activate', second);
    expect(activated.stdout).toContain(`previous signer ${first} is inactive`);
    expect(await statusOf(second)).toBe('active');
    expect(await statusOf(first)).toBe('inactive');

    expectOneLineError(await cli('keys', 'retire', second), `key ${second} is signing`);
    expect((await cli('keys', 'retire', first)).code).toBe(0);
    expect(await statusOf(first)).toBe('retired');
    expectOneLineError(await cli('keys', 'activate', first), 'is retired and cannot sign again');
    expectOneLineError(await cli('keys', 'activate', 'no-such-kid'), 'behalf: no signing key no-such-kid\n');
  });

  it('makes kids an operator can paste, and takes older ones that start with "-" after --', async () => {
    // A base64url thumbprint starts with '-' one time in 64: the kid must not.
    for (let i = 0; i < 3; i += 1) expect(await rotate()).toMatch(/^es256-[A-Za-z0-9_-]{22}-[0-9a-f]{8}$/);
    expectOneLineError(await cli('keys', 'activate', '--', '-legacy-kid'), 'behalf: no signing key -legacy-kid\n');
    expectOneLineError(await cli('keys', 'retire', '--', '-legacy-kid'), 'behalf: no signing key -legacy-kid\n');
  });

  it('generate-secret prints 32 random bytes, base64url, without a database', async () => {
    const env = { NODE_ENV: 'test', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };
    const [a, b] = [await cliWith(env, 'keys', 'generate-secret'), await cliWith(env, 'keys', 'generate-secret')];
    expect(a).toMatchObject({ code: 0, stderr: '' });
    expect(a.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(Buffer.from(a.stdout.trim(), 'base64url')).toHaveLength(32);
    expect(a.stdout).not.toBe(b.stdout);
  });

  it('rewrap re-seals client secrets and signing keys under a new key-encryption key', async () => {
    const kek = (await cli('keys', 'generate-secret')).stdout.trim();
    const env = { NODE_ENV: 'test', DATABASE_URL: db.url, KEY_ENCRYPTION_KEYS: `${kek},${services.config.secrets.keyEncryptionKeys[0]}` };
    const first = await cliWith(env, 'keys', 'rewrap');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^re-sealed [1-9]\d* client secret\(s\) and [1-9]\d* signing key\(s\)/);
    expect((await cliWith(env, 'keys', 'rewrap')).stdout).toMatch(/^re-sealed 0 client secret\(s\) and 0 signing key\(s\)/);
    // Put the original key back first, so the other tests keep reading their secrets.
    await cliWith({ ...env, KEY_ENCRYPTION_KEYS: `${services.config.secrets.keyEncryptionKeys[0]},${kek}` }, 'keys', 'rewrap');
    expect((await services.clients.findForProvider('portal'))?.client_secret).toBe('portal-demo-secret');
  });
});

describe('the built binary', () => {
  it('runs as a program: help, and exit code 1 on a mistake', async () => {
    const run = promisify(execFile);
    const help = await run(process.execPath, ['dist/src/cli/index.js', '--help'], { cwd: process.cwd() });
    expect(help.stdout).toContain('Usage: behalf <command> [options]');
    expect(help.stdout).toContain('Examples:');
    const failed = await run(process.execPath, ['dist/src/cli/index.js', 'frobnicate'], { cwd: process.cwd() }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed).toMatchObject({ code: 1, stderr: expect.stringMatching(/^behalf: unknown command 'frobnicate'/) });
  });
});
