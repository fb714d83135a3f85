/**
 * Behalf as a separate operating-system process (`node dist/src/main.js`,
 * what `npm run start:behalf` and the container run): for multi-instance and
 * fault tests and for the bench, where sharing the test's process would hide
 * what really crosses process boundaries (memory, timers, signals).
 * Settings reach it the way they reach production: environment variables and
 * a BEHALF_CONFIG_FILE. Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../config/load.js';
import { freePort } from '../../src/server/db/embedded.js';

// Tests and the bench pick ports with it too.
export { freePort };

export interface BehalfProcessOptions {
  databaseUrl: string;
  /** Extra settings, written to a BEHALF_CONFIG_FILE. */
  overrides?: Record<string, unknown>;
  /** Extra environment variables (NODE_ENV defaults to test). */
  env?: Record<string, string>;
  /** Defaults to a free loopback port. */
  port?: number;
  /** Defaults to http://127.0.0.1:<port>; set it to make two instances one issuer. */
  issuer?: string;
  readyTimeoutMs?: number;
}

export interface BehalfProcess {
  issuer: string;
  /** Where this instance listens (differs from issuer when several share one). */
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  /** The last lines the process wrote (stdout and stderr), for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const KEEP_OUTPUT_CHARS = 20_000;

/**
 * The Node flags Behalf runs with in production (package.json's start scripts, the
 * Dockerfile): Node 24 sizes the young generation and the heap's growth from the machine's
 * memory, which let RSS reach ~280 MB under load with ~90 MB live; with these it stays
 * near 180 MB at the same throughput. A unit test keeps the three in step.
 */
export const BEHALF_NODE_FLAGS = ['--max-semi-space-size=16', '--max-old-space-size=1024'];

export async function spawnBehalf(options: BehalfProcessOptions): Promise<BehalfProcess> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const issuer = options.issuer ?? url;
  const dir = mkdtempSync(join(tmpdir(), 'behalf-process-'));
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(options.overrides ?? {}));

  const child = spawn(process.execPath, [...BEHALF_NODE_FLAGS, join(projectRoot(), 'dist/src/main.js')], {
    cwd: projectRoot(),
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      ...options.env,
      DATABASE_URL: options.databaseUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      ISSUER: issuer,
      BEHALF_CONFIG_FILE: configFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-KEEP_OUTPUT_CHARS);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, signal });
    });
  });
  let ended = false;
  void exited.then(() => (ended = true));

  const stop = async (graceMs = 15_000) => {
    if (!ended) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    }
    return exited;
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (ended) throw new Error(`Behalf process exited before it was ready:\n${output}`);
    const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop(2_000);
      throw new Error(`Behalf process not ready within ${options.readyTimeoutMs ?? 60_000} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { issuer, url, port, pid: child.pid!, child, output: () => output, stop };
}

export interface CliProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The admin CLI as its own process (`node dist/src/cli/index.js …`), on the
 * given database, the way an operator runs it beside running instances.
 * Killed after `timeoutMs`.
 */
export async function runCliProcess(
  args: string[],
  options: { databaseUrl: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<CliProcessResult> {
  const child = spawn(process.execPath, [join(projectRoot(), 'dist/src/cli/index.js'), ...args], {
    cwd: projectRoot(),
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'warn', ...options.env, DATABASE_URL: options.databaseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode, exitSignal) => resolve({ code: exitCode, signal: exitSignal }));
  });
  clearTimeout(timer);
  return { code, signal, stdout, stderr };
}
