/**
 * The embedded PostgreSQL (no DATABASE_URL) on two roles: a fresh folder gets
 * an owner and an unprivileged runtime role, and a folder from a version that
 * knew only the superuser gains the runtime role on its next start. Each test
 * runs its own cluster in a temporary folder, never the run's shared server.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../config/load.js';
import { createDataSource, migrate } from '../../src/server/db/data-source.js';
import { startEmbeddedPostgres } from '../../src/server/db/embedded.js';
import { runtimeRoleFacts } from '../../src/server/db/runtime-role-facts.js';
import { runtimeRoleProblems } from '../../src/server/db/runtime-role-policy.js';
import { seedDemo } from '../../src/server/seed/seed-demo.js';
import { createBehalf, type Behalf } from '../../src/server/system.js';
import { tokenRequest } from '../support/oauth.js';

const TIMEOUT_MS = 120_000;

const folders: string[] = [];
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'behalf-embedded-roles-'));
  folders.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

function credentialsFile(dir: string) {
  const file = join(dir, 'behalf-credentials.json');
  return {
    mode: statSync(file).mode & 0o777,
    value: JSON.parse(readFileSync(file, 'utf8')) as { user: string; runtime?: { user: string } },
  };
}

/** Behalf on the embedded cluster in `dir`, serving HTTP, with the demo data (seeded by the runtime role). */
async function startOn(dir: string): Promise<{ behalf: Behalf; issuer: string; close(): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const behalf = await createBehalf(loadConfig({ env: { NODE_ENV: 'test', EMBEDDED_POSTGRES_DIR: dir, ISSUER: issuer } }));
  behalf.attach(server);
  return { behalf, issuer, close: () => behalf.close() };
}

/** Behalf works on its runtime role: a token over HTTP, audited through the append function. */
async function expectWorking(behalf: Behalf, issuer: string): Promise<void> {
  if (!(await behalf.clients.ids()).includes('integrator-demo')) await seedDemo(behalf);
  const response = await tokenRequest(issuer, 'integrator-demo', 'integrator-demo-secret', {
    grant_type: 'client_credentials',
    scope: 'orders:read',
    resource: 'http://localhost:4003',
  });
  expect(response.status).toBe(200);
  const [last] = (await behalf.dataSource.query('SELECT type FROM audit_event ORDER BY qid DESC NULLS LAST LIMIT 1')) as { type: string }[];
  expect(last?.type).toBe('token.issued');
  await expect(behalf.dataSource.query('SET session_replication_role = replica')).rejects.toThrow(/permission denied/);
}

it(
  'creates an owner and an unprivileged runtime role on first start, and serves as the runtime role',
  async () => {
    const dir = folder();
    const running = await startOn(dir);
    try {
      const credentials = credentialsFile(dir);
      expect(credentials.mode).toBe(0o600);
      expect(credentials.value).toMatchObject({ user: 'behalf', runtime: { user: 'behalf_runtime' } });
      const [role] = (await running.behalf.dataSource.query(
        'SELECT current_user AS name, rolsuper FROM pg_roles WHERE rolname = current_user',
      )) as { name: string; rolsuper: boolean }[];
      expect(role).toEqual({ name: 'behalf_runtime', rolsuper: false });
      expect(runtimeRoleProblems(await runtimeRoleFacts(running.behalf.dataSource))).toEqual([]);
      expect(new URL(running.behalf.database.ownerUrl).username).toBe('behalf');
      await expectWorking(running.behalf, running.issuer);
    } finally {
      await running.close();
    }
  },
  TIMEOUT_MS,
);

it(
  'upgrades a folder from a version with only the superuser: the runtime role appears on the next start',
  async () => {
    const dir = folder();
    // What an older Behalf left behind: a migrated database owned by `behalf`, and credentials for it alone.
    const old = await startEmbeddedPostgres({ dir, database: 'behalf' });
    const source = createDataSource({ url: old.url, poolSize: 2 });
    await source.initialize();
    await migrate(source);
    await source.destroy();
    const admin = new pg.Client({ connectionString: old.url });
    await admin.connect();
    await admin.query('DROP ROLE behalf_runtime');
    await admin.end();
    await old.stop();
    const { value } = credentialsFile(dir);
    delete value.runtime;
    writeFileSync(join(dir, 'behalf-credentials.json'), JSON.stringify(value), { mode: 0o600 });

    const running = await startOn(dir);
    try {
      expect(credentialsFile(dir)).toMatchObject({ mode: 0o600, value: { user: 'behalf', runtime: { user: 'behalf_runtime' } } });
      expect(runtimeRoleProblems(await runtimeRoleFacts(running.behalf.dataSource))).toEqual([]);
      await expectWorking(running.behalf, running.issuer);
    } finally {
      await running.close();
    }
  },
  TIMEOUT_MS,
);
