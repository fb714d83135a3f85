/**
 * `npm run cli` builds only when a source changed (scripts/build.js
 * --if-stale), and the built CLI runs as the package's `behalf` binary:
 * directly, through a symlink, from any working directory. Speed is measured
 * by hand, not asserted here.
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { buildFreshness, buildInputs, STAMP } from '../../scripts/build-freshness.js';

const run = promisify(execFile);
const ROOT = resolve('.');
const CLI = join(ROOT, 'dist/src/cli/index.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
/** Child processes without jest's NODE_OPTIONS (--experimental-vm-modules would only add warnings). */
const ENV = { ...process.env, NODE_OPTIONS: '' };

const temporaryDirs: string[] = [];
function temporaryDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporaryDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
});

function writeFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** Sets a path's mtime to `secondsAgo` before now (negative: in the future). */
function age(path: string, secondsAgo: number): void {
  const time = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(path, time, time);
}

describe('build freshness: the decision', () => {
  let root: string;
  const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];

  /** A small project whose sources and directories are all an hour old, and a stamp from ten minutes ago. */
  function project(): string {
    const dir = temporaryDir('behalf-freshness-');
    for (const file of ['src/a.ts', 'src/server/b.ts', 'src/server/views/page.eta', 'tsconfig.json', 'package.json'])
      writeFile(join(dir, file), '// x\n');
    writeFile(join(dir, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json', include: ['src'] }));
    writeFile(join(dir, STAMP), 'built\n');
    for (const path of [
      'src/a.ts',
      'src/server/b.ts',
      'src/server/views/page.eta',
      'src/server/views',
      'src/server',
      'src',
      'tsconfig.json',
      'tsconfig.build.json',
      'package.json',
    ])
      age(join(dir, path), 3600);
    age(join(dir, STAMP), 600);
    return dir;
  }

  beforeEach(() => {
    root = project();
  });

  it('reads the inputs from tsconfig.build.json, plus the build configuration', () => {
    expect(buildInputs(root)).toEqual(['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json']);
    expect(buildInputs(ROOT)).toEqual(expect.arrayContaining(['src', 'config', 'migrations', 'tsconfig.build.json']));
  });

  it('is current when nothing changed since the stamp', () => {
    expect(buildFreshness(root, inputs)).toEqual({ current: true, reason: 'dist/ is up to date' });
  });

  it('is stale when a source is newer than the stamp, and names it', () => {
    age(join(root, 'src/server/b.ts'), 10);
    expect(buildFreshness(root, inputs)).toEqual({ current: false, reason: 'src/server/b.ts changed since the last build' });
  });

  it('is stale when the build configuration changed', () => {
    age(join(root, 'tsconfig.json'), 10);
    expect(buildFreshness(root, inputs)).toMatchObject({ current: false, reason: 'tsconfig.json changed since the last build' });
  });

  it('is stale when a source was deleted (its directory changed)', () => {
    unlinkSync(join(root, 'src/a.ts'));
    expect(buildFreshness(root, inputs)).toMatchObject({ current: false, reason: 'src changed since the last build' });
  });

  it('is stale when dist/ (and so the stamp) is gone', () => {
    rmSync(join(root, 'dist'), { recursive: true });
    expect(buildFreshness(root, inputs)).toMatchObject({ current: false, reason: expect.stringContaining('no successful build yet') });
  });

  it('ignores files tsc does not compile (templates are read at run time)', () => {
    age(join(root, 'src/server/views/page.eta'), 10);
    expect(buildFreshness(root, inputs).current).toBe(true);
  });
});

describe('scripts/build.js on a small project', () => {
  let root: string;

  beforeAll(() => {
    root = temporaryDir('behalf-build-');
    mkdirSync(join(root, 'scripts'));
    for (const script of ['build.js', 'build-freshness.js']) copyFileSync(join(ROOT, 'scripts', script), join(root, 'scripts', script));
    symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
    writeFile(
      join(root, 'package.json'),
      JSON.stringify({ name: 'tiny', version: '1.0.0', type: 'module', bin: { tiny: 'dist/src/main.js' } }),
    );
    writeFile(
      join(root, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'es2022', module: 'nodenext', strict: true, types: [], outDir: 'dist', rootDir: '.' } }),
    );
    writeFile(join(root, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json', include: ['src'] }));
    writeFile(join(root, 'src/main.ts'), '#!/usr/bin/env node\nconst answer: number = 42;\nconsole.log(answer);\n');
  });

  const build = (...args: string[]) =>
    run(process.execPath, ['scripts/build.js', '--if-stale', '--verbose', ...args], { cwd: root, env: ENV });

  it('builds when there is no build, then finds it current; an edit makes it build again', async () => {
    const first = await build();
    expect(first.stderr).toMatch(/^build: stale: no successful build yet/);
    expect(existsSync(join(root, 'dist/src/main.js'))).toBe(true);
    expect(existsSync(join(root, STAMP))).toBe(true);
    // The package's bin target is executable, so a symlink to it runs as a program.
    expect(statSync(join(root, 'dist/src/main.js')).mode & 0o111).toBe(0o111);

    expect((await build()).stderr).toBe('build: current: dist/ is up to date\n');

    writeFileSync(join(root, 'src/main.ts'), 'const answer: number = 43;\nconsole.log(answer);\n');
    expect((await build()).stderr).toBe('build: stale: src/main.ts changed since the last build; compiling\n');
    expect(readFileSync(join(root, 'dist/src/main.js'), 'utf8')).toContain('43');
    expect((await build()).stderr).toBe('build: current: dist/ is up to date\n');
  }, 60_000);

  it('fails loudly when tsc fails, leaves no stamp, and tries again next time', async () => {
    writeFileSync(join(root, 'src/main.ts'), 'const answer: number = "forty-two";\n');
    const failed = await build().catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect(failed).toMatchObject({
      code: 2,
      stdout: expect.stringContaining('TS2322'),
      stderr: expect.stringContaining('build: tsc -p tsconfig.build.json failed (exit code 2); dist/ is not marked current'),
    });
    expect(existsSync(join(root, STAMP))).toBe(false);
    expect((await build().catch((error: { stderr: string }) => error)).stderr).toMatch(/^build: stale: no successful build yet/);

    writeFileSync(join(root, 'src/main.ts'), 'console.log(44);\n');
    expect((await build()).stderr).toMatch(/^build: stale: no successful build yet/);
    expect((await build()).stderr).toBe('build: current: dist/ is up to date\n');
  }, 60_000);
});

/** Every module the built file loads before it runs (static imports, followed through relative ones); type imports are gone from the emitted JavaScript. */
function staticImports(file: string, seen = new Set<string>()): Set<string> {
  for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/^(?:(?:import|export)\b[^'"]*?\bfrom\s+|import\s+)'([^']+)'/gm)) {
    if (!specifier!.startsWith('.')) seen.add(specifier!);
    else {
      const target = resolve(dirname(file), specifier!);
      if (!seen.has(target)) staticImports(target, seen.add(target));
    }
  }
  return seen;
}

describe('the behalf binary', () => {
  it('loads only commander and node built-ins at start-up (server code is imported by the actions)', () => {
    const packages = [...staticImports(CLI)].filter((specifier) => !specifier.startsWith('/'));
    expect(packages.filter((name) => name !== 'commander' && !name.startsWith('node:'))).toEqual([]);
    expect(packages).toContain('commander');
  });

  it('is the package.json bin entry, and prints its help from any working directory', async () => {
    const { bin } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(resolve(ROOT, bin.behalf!)).toBe(CLI);
    const help = await run(process.execPath, [CLI, '--help'], { cwd: tmpdir(), env: ENV });
    expect(help.stdout).toContain('Usage: behalf <command> [options]');
    expect(help.stdout).toContain('accounts');
    const group = await run(process.execPath, [CLI, 'keys', '--help'], { cwd: tmpdir(), env: ENV });
    expect(group.stdout).toContain('Usage: behalf keys');
  });

  it('runs through a symlink (as node_modules/.bin/behalf or a linked global install would)', async () => {
    const link = join(temporaryDir('behalf-bin-'), 'behalf');
    symlinkSync(CLI, link);
    // Executed itself: the shebang and the executable bit the build sets.
    expect((await run(link, ['--version'], { cwd: tmpdir(), env: ENV })).stdout).toBe(`${VERSION}\n`);
    // Run by node: the entry-point check still recognises the file behind the link.
    expect((await run(process.execPath, [link, '--version'], { cwd: tmpdir(), env: ENV })).stdout).toBe(`${VERSION}\n`);
  });

  it("runs as `npx behalf` in the project folder (npm exec finds the package's own bin)", async () => {
    const { stdout } = await run('npx', ['--no-install', 'behalf', '--version'], { cwd: join(ROOT, 'src'), env: ENV });
    expect(stdout).toBe(`${VERSION}\n`);
  }, 30_000);
});
