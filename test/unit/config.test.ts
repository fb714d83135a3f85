/**
 * config/load.ts: defaults, layering (file → BEHALF_CONFIG_FILE → environment),
 * one-line errors that name the setting and its environment variable, and the
 * production refusals. Plus the real binary: a bad configuration ends the
 * process with one `behalf: config:` line and exit code 78.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  DEVELOPMENT_COOKIE_KEY,
  DEVELOPMENT_KEY_ENCRYPTION_KEY,
  loadConfig,
  projectRoot,
  usesDevelopmentSecrets,
} from '../../config/load.js';

const KEK_1 = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const KEK_2 = 'BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
const COOKIE_KEY = 'a-production-cookie-key-of-at-least-32-characters';
const PRODUCTION = { NODE_ENV: 'production', ISSUER: 'https://id.example.com', KEY_ENCRYPTION_KEYS: KEK_1, COOKIE_KEYS: COOKIE_KEY };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'behalf-config-test-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function configFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

/** The ConfigError loadConfig throws for `env` (fails the test if it loads). */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig({ env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/^config: /);
    expect(message).not.toContain('\n');
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

it('resolves relative folders against the project root, wherever the process runs', () => {
  const config = loadConfig({ env: { EMBEDDED_POSTGRES_DIR: 'var/pg', AUDIT_CHECKPOINT_DIR: '/srv/checkpoints' } });
  expect(config.database.embeddedDir).toBe(join(projectRoot(), 'var/pg'));
  expect(config.audit.externalCheckpoints.dir).toBe('/srv/checkpoints');
});

describe('defaults', () => {
  it('runs in development on localhost:4000 with an embedded database and the public development secrets', () => {
    const config = loadConfig({ env: {} });
    expect(config).toMatchObject({
      env: 'development',
      issuer: 'http://localhost:4000',
      host: '127.0.0.1',
      port: 4000,
      proxy: false,
      database: { embeddedDir: join(projectRoot(), '.data/postgres'), poolSize: 10, migrateOnStart: true },
      secrets: { keyEncryptionKeys: [DEVELOPMENT_KEY_ENCRYPTION_KEY], cookieKeys: [DEVELOPMENT_COOKIE_KEY] },
      security: { bcryptCost: 10, lockoutThreshold: 5, lockoutSeconds: 900, maxBodyBytes: 65_536 },
      tokens: { accessTokenTtl: 600, resourceAccessTokenTtl: 600, authorizationCodeTtl: 60, clientCredentialsTtl: 600 },
      keys: { refreshIntervalSeconds: 5 },
      log: { level: 'info' },
      demo: { seedOnEmptyDatabase: true },
      clients: [],
    });
    expect(config.database.url).toBeUndefined();
    expect(usesDevelopmentSecrets(config)).toBe(true);
  });

  it('applies config/test.json in the test environment', () => {
    const config = loadConfig({ env: { NODE_ENV: 'test' } });
    expect(config).toMatchObject({
      env: 'test',
      security: { bcryptCost: 4 },
      log: { level: 'silent' },
      keys: { refreshIntervalSeconds: 0.5 },
      demo: { seedOnEmptyDatabase: false },
    });
  });
});

describe('environment overrides', () => {
  it('reads PORT, ISSUER, DATABASE_URL and the key lists', () => {
    const config = loadConfig({
      env: {
        NODE_ENV: 'test',
        PORT: '8080',
        HOST: '0.0.0.0',
        ISSUER: 'https://id.example.com/',
        DATABASE_URL: 'postgres://behalf:pw@db.internal:5432/behalf',
        KEY_ENCRYPTION_KEYS: ` ${KEK_2}, ${KEK_1} ,`,
        COOKIE_KEYS: COOKIE_KEY,
        TRUST_PROXY: 'true',
        BCRYPT_COST: '13',
        LOG_LEVEL: 'debug',
      },
    });
    expect(config.port).toBe(8080);
    expect(config.host).toBe('0.0.0.0');
    expect(config.issuer).toBe('https://id.example.com'); // trailing slash removed
    expect(config.database.url).toBe('postgres://behalf:pw@db.internal:5432/behalf');
    expect(config.secrets.keyEncryptionKeys).toEqual([KEK_2, KEK_1]); // order kept: the first encrypts
    expect(config.secrets.cookieKeys).toEqual([COOKIE_KEY]);
    expect(config.proxy).toBe(true);
    expect(config.security.bcryptCost).toBe(13);
    expect(config.log.level).toBe('debug');
    expect(usesDevelopmentSecrets(config)).toBe(false);
  });

  it('reads REDIS_URL (redis:// or rediss://) and REDIS_KEY_PREFIX; without them the counters stay in PostgreSQL', () => {
    const byDefault = loadConfig({ env: { NODE_ENV: 'test' } }).rateLimits;
    expect(byDefault.redisUrl).toBeUndefined();
    expect(byDefault.redisKeyPrefix).toBe('behalf:rl:');
    expect(
      loadConfig({ env: { NODE_ENV: 'test', REDIS_URL: 'rediss://:pw@cache.internal:6380/2', REDIS_KEY_PREFIX: 'shop-a:rl:' } }).rateLimits,
    ).toMatchObject({
      redisUrl: 'rediss://:pw@cache.internal:6380/2',
      redisKeyPrefix: 'shop-a:rl:',
    });
  });

  it('never repeats a refused REDIS_URL (it may hold a password)', () => {
    const { message } = configError({ NODE_ENV: 'test', REDIS_URL: 'http://:hunter2-secret@cache:6379' });
    expect(message).toBe('config: rateLimits.redisUrl (REDIS_URL): must be a redis:// or rediss:// URL with a host');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ env: { NODE_ENV: 'test', PORT: '' } }).port).toBe(4000);
  });

  it('layers BEHALF_CONFIG_FILE over config/<env>.json and the environment over both', () => {
    const file = configFile('layers.json', { port: 5000, security: { lockoutThreshold: 9 }, tokens: { accessTokenTtl: 120 } });
    const fromFile = loadConfig({ env: { NODE_ENV: 'test', BEHALF_CONFIG_FILE: file } });
    expect(fromFile.port).toBe(5000);
    expect(fromFile.security).toMatchObject({ lockoutThreshold: 9, bcryptCost: 4 }); // merged, not replaced
    expect(fromFile.tokens).toMatchObject({ accessTokenTtl: 120, refreshTokenTtl: 1_209_600 });
    expect(loadConfig({ env: { NODE_ENV: 'test', BEHALF_CONFIG_FILE: file, PORT: '6000' } }).port).toBe(6000);
  });
});

describe('mistakes are one line naming the setting', () => {
  it('rejects an unknown key in BEHALF_CONFIG_FILE, naming it', () => {
    const nested = configError({ NODE_ENV: 'test', BEHALF_CONFIG_FILE: configFile('typo.json', { tokens: { acessTokenTtl: 60 } }) });
    expect(nested.message).toContain('tokens.acessTokenTtl');
    const topLevel = configError({ NODE_ENV: 'test', BEHALF_CONFIG_FILE: configFile('top.json', { prot: 80 }) });
    expect(topLevel.message).toContain('prot');
  });

  it('rejects a BEHALF_CONFIG_FILE that is missing or not a JSON object', () => {
    expect(configError({ NODE_ENV: 'test', BEHALF_CONFIG_FILE: join(dir, 'missing.json') }).message).toContain('BEHALF_CONFIG_FILE');
    const notJson = join(dir, 'broken.json');
    writeFileSync(notJson, '{ "port": ');
    expect(configError({ NODE_ENV: 'test', BEHALF_CONFIG_FILE: notJson }).message).toContain('BEHALF_CONFIG_FILE');
    expect(configError({ NODE_ENV: 'test', BEHALF_CONFIG_FILE: configFile('array.json', [1, 2]) }).message).toContain('not a JSON object');
  });

  it.each([
    ['PORT', 'abc', 'port'],
    ['PORT', '70000', 'port'],
    ['PORT', '80.5', 'port'],
    ['PORT', '80\nsecond line', 'port'],
    ['TRUST_PROXY', 'maybe', 'proxy'],
    ['BCRYPT_COST', 'twelve', 'security.bcryptCost'],
    ['DATABASE_POOL_SIZE', '0', 'database.poolSize'],
    ['DATABASE_URL', 'mysql://db/behalf', 'database.url'],
    ['DATABASE_MIGRATION_URL', 'mysql://db/behalf', 'database.migrationUrl'],
    ['ISSUER', 'not a url', 'issuer'],
    ['ISSUER', 'https://id.example.com/?tenant=1', 'issuer'],
    ['LOG_LEVEL', 'loud', 'log.level'],
    ['KEY_ENCRYPTION_KEYS', 'too-short', 'secrets.keyEncryptionKeys'],
    ['COOKIE_KEYS', 'short', 'secrets.cookieKeys'],
    ['REDIS_URL', 'http://cache:6379', 'rateLimits.redisUrl'],
    ['REDIS_URL', 'redis:cache', 'rateLimits.redisUrl'],
    ['REDIS_KEY_PREFIX', 'has space', 'rateLimits.redisKeyPrefix'],
  ])('%s=%s names %s and the variable', (name, value, setting) => {
    const { message } = configError({ NODE_ENV: 'test', [name]: value });
    expect(message).toContain(setting);
    expect(message).toContain(name);
  });

  it('takes DATABASE_MIGRATION_URL only beside DATABASE_URL (the embedded PostgreSQL has both roles)', () => {
    const both = loadConfig({
      env: { NODE_ENV: 'test', DATABASE_URL: 'postgres://runtime@db/behalf', DATABASE_MIGRATION_URL: 'postgres://owner@db/behalf' },
    });
    expect(both.database).toMatchObject({ url: 'postgres://runtime@db/behalf', migrationUrl: 'postgres://owner@db/behalf' });
    const { message } = configError({ NODE_ENV: 'test', DATABASE_MIGRATION_URL: 'postgres://owner@db/behalf' });
    expect(message).toMatch(/^config: database\.migrationUrl \(DATABASE_MIGRATION_URL\): needs database\.url \(DATABASE_URL\)/);
  });

  it('names the environment variable for a wrong type in a file too', () => {
    const { message } = configError({ NODE_ENV: 'test', BEHALF_CONFIG_FILE: configFile('type.json', { port: '80' }) });
    expect(message).toContain('port (PORT)');
  });

  it('rejects an unknown NODE_ENV and unknown BEHALF_ variables', () => {
    expect(configError({ NODE_ENV: 'staging' }).message).toContain('NODE_ENV');
    expect(configError({ NODE_ENV: 'test\nproduction' }).message).toContain('NODE_ENV'); // still one line
    expect(configError({ NODE_ENV: 'test', BEHALF_PORT: '1' }).message).toContain('BEHALF_PORT');
  });
});

describe('production refuses unsafe settings', () => {
  it('loads with its own secrets, an https issuer and bcrypt cost 12', () => {
    const config = loadConfig({ env: PRODUCTION });
    expect(config).toMatchObject({ env: 'production', issuer: 'https://id.example.com', host: '0.0.0.0', security: { bcryptCost: 12 } });
    expect(config.secrets).toEqual({ keyEncryptionKeys: [KEK_1], cookieKeys: [COOKIE_KEY] });
    expect(usesDevelopmentSecrets(config)).toBe(false);
  });

  it.each([
    ['without KEY_ENCRYPTION_KEYS', { KEY_ENCRYPTION_KEYS: undefined }, /KEY_ENCRYPTION_KEYS.*required in production/],
    ['without COOKIE_KEYS', { COOKIE_KEYS: undefined }, /COOKIE_KEYS.*required in production/],
    [
      'with the public development key-encryption key',
      { KEY_ENCRYPTION_KEYS: `${KEK_1},${DEVELOPMENT_KEY_ENCRYPTION_KEY}` },
      /KEY_ENCRYPTION_KEYS.*development key is public/,
    ],
    ['with the public development cookie key', { COOKIE_KEYS: DEVELOPMENT_COOKIE_KEY }, /COOKIE_KEYS.*development key is public/],
    ['with an http issuer', { ISSUER: 'http://id.example.com' }, /issuer \(ISSUER\).*https/],
    ['with bcrypt cost below 12', { BCRYPT_COST: '11' }, /bcryptCost \(BCRYPT_COST\).*at least 12/],
  ])('%s', (_label, change, expected) => {
    const env: NodeJS.ProcessEnv = { ...PRODUCTION, ...change };
    for (const [name, value] of Object.entries(change)) if (value === undefined) delete env[name];
    expect(configError(env).message).toMatch(expected);
  });
});

describe('the built server', () => {
  async function run(env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
    // A clean environment: the test runner's own variables (NODE_OPTIONS, BEHALF_TEST_*) must not leak in.
    const child = spawn(process.execPath, [join(projectRoot(), 'dist', 'src', 'main.js')], {
      cwd: projectRoot(),
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', (exitCode) => resolve(exitCode)));
    clearTimeout(timer);
    return { code, stderr, stdout };
  }

  it('exits 78 with one `behalf: config:` line for PORT=abc', async () => {
    const { code, stderr, stdout } = await run({ NODE_ENV: 'test', PORT: 'abc' });
    expect(stderr.endsWith('\n')).toBe(true);
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^behalf: config: /);
    expect(lines[0]).toContain('PORT');
    expect(stdout).toBe('');
    expect(code).toBe(78);
  });

  it('exits 78 with one `behalf: config:` line in production without secrets', async () => {
    const { code, stderr } = await run({ NODE_ENV: 'production' });
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^behalf: config: .*KEY_ENCRYPTION_KEYS/);
    expect(code).toBe(78);
  });
});
