/**
 * `node scripts/build.js`: compile with tsc -p tsconfig.build.json, then stamp
 * dist/ as current. `--if-stale`: do nothing when dist/ is already current
 * (how `npm run cli`, `npm test` and `npm start` build). A failed tsc exits
 * with its own code and leaves no stamp, so the next run builds again.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFreshness, STAMP } from './build-freshness.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const ifStale = process.argv.includes('--if-stale');
const verbose = process.argv.includes('--verbose');

/** package.json `bin` targets become executable, so a symlink to one runs as a program (npm does this only when it installs a package). */
function makeBinariesExecutable() {
  const { bin = {} } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  for (const target of Object.values(typeof bin === 'string' ? { bin } : bin)) chmodSync(join(root, target), 0o755);
}

function build() {
  const stamp = join(root, STAMP);
  // Written before tsc starts, so an edit made during the build still counts as newer.
  const started = `${stamp}.${process.pid}`;
  rmSync(stamp, { force: true });
  mkdirSync(dirname(stamp), { recursive: true });
  writeFileSync(started, `build started by pid ${process.pid}\n`);
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    rmSync(started, { force: true });
    process.stderr.write(
      `build: tsc -p tsconfig.build.json failed (${result.error?.message ?? `exit code ${result.status ?? result.signal}`}); dist/ is not marked current\n`,
    );
    process.exit(result.status || 1);
  }
  makeBinariesExecutable();
  renameSync(started, stamp);
}

if (ifStale) {
  const { current, reason } = buildFreshness(root);
  if (verbose || !current) process.stderr.write(`build: ${current ? 'current' : 'stale'}: ${reason}${current ? '' : '; compiling'}\n`);
  if (!current) build();
} else {
  build();
}
