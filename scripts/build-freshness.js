/**
 * Whether dist/ is current: no source that tsc compiles into it (the
 * tsconfig.build.json `include`, plus the build's own configuration) changed
 * since the last successful build. A plain mtime walk takes a few
 * milliseconds; `tsc --incremental` would take most of a second just to load.
 * Directory mtimes count too, so a deleted or renamed source also reads as a change.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

/** Written (as a rename, keeping the mtime of the build's start) only after tsc succeeds. */
export const STAMP = 'dist/.build-stamp';

/** Files outside `include` whose change changes the output. */
const BUILD_CONFIGURATION = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];

const COMPILED = new Set(['.ts', '.tsx', '.mts', '.cts', '.json']);

function mtimeOf(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The newest mtime under `path` (itself, every directory, every compiled file), with the file that has it. */
function newestUnder(path, newest) {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return newest;
  }
  if (stats.mtimeMs > newest.mtimeMs) newest = { path, mtimeMs: stats.mtimeMs };
  if (!stats.isDirectory()) return newest;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    if (entry.isDirectory() || COMPILED.has(extname(entry.name))) newest = newestUnder(join(path, entry.name), newest);
  }
  return newest;
}

/** The `include` entries of tsconfig.build.json (tsc's file list is what dist/ is made of). */
export function buildInputs(root) {
  const { include } = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8'));
  return [...include, ...BUILD_CONFIGURATION];
}

/**
 * Decides whether `root`'s build is current. `inputs` are paths relative to
 * `root` (directories are walked); the stamp's mtime is when the last
 * successful build started. Returns `{ current, reason }`, reason for people.
 */
export function buildFreshness(root, inputs = buildInputs(root)) {
  const stamp = mtimeOf(join(root, STAMP));
  if (stamp === undefined) return { current: false, reason: `no successful build yet (${STAMP} is missing)` };
  let newest = { path: '', mtimeMs: -Infinity };
  for (const input of inputs) newest = newestUnder(join(root, input), newest);
  // `>=`: a file saved in the same clock tick as the build started may have missed it.
  if (newest.mtimeMs >= stamp) return { current: false, reason: `${newest.path.slice(root.length + 1)} changed since the last build` };
  return { current: true, reason: 'dist/ is up to date' };
}
