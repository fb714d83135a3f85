/**
 * `npm run bench`: Behalf in this process on a throwaway PostgreSQL database,
 * load from a forked autocannon process per scenario, one table printed and
 * written to bench-results/<timestamp>.json. BENCH_SECONDS (default 10),
 * BENCH_CONNECTIONS (16), BENCH_SCENARIOS (comma list; default all).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../config/load.js';
import { ORDERS_API } from '../../src/server/seed/demo-data.js';
import { kitVerify } from './kit-verify.js';
import { drive } from './load-client.js';
import type { LoadRequest } from './load.js';
import { startBenchServer, type BenchServer } from './server.js';
import { setupDirectory, setupImpersonation, setupIntrospection, setupBaseline, onBehalfJwts } from './scenarios.js';

const SECONDS = Math.max(1, Number(process.env.BENCH_SECONDS ?? 10));
const CONNECTIONS = Math.max(1, Number(process.env.BENCH_CONNECTIONS ?? 16));
const ALL = ['baseline', 'impersonation', 'introspection', 'directory-search', 'kit-verify'];
const SELECTED = process.env.BENCH_SCENARIOS ? process.env.BENCH_SCENARIOS.split(',').map((name) => name.trim()) : ALL;

export interface Row {
  scenario: string;
  connections: number;
  requests_per_s: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  errors: number;
  rss_mb: number;
  ratio: number | null;
  ratio_to: string;
}

const round = (value: number, digits = 1) => Number(value.toFixed(digits));

async function http(server: BenchServer, scenario: string, request: LoadRequest, baseline: number | undefined): Promise<Row> {
  process.stderr.write(`bench: ${scenario} (${SECONDS} s, ${CONNECTIONS} connections)…\n`);
  const { result, rss_mb } = await drive({ url: server.issuer, connections: CONNECTIONS, seconds: SECONDS, request });
  if (result.non2xx || result.socket_errors) process.stderr.write(`bench: ${scenario}: status codes ${JSON.stringify(result.status_codes)}, socket errors ${result.socket_errors}\n`);
  return {
    scenario,
    connections: CONNECTIONS,
    requests_per_s: round(result.requests_per_s),
    p50_ms: result.p50_ms,
    p95_ms: result.p95_ms,
    p99_ms: result.p99_ms,
    errors: result.non2xx + result.socket_errors,
    rss_mb,
    ratio: baseline ? round(result.requests_per_s / baseline, 2) : null,
    ratio_to: 'baseline',
  };
}

async function main(): Promise<void> {
  const started = new Date();
  const load = loadavg()[0]!;
  // Everything is bounded: a run that hangs still ends.
  const watchdog = setTimeout(() => {
    console.error('bench: watchdog expired, giving up');
    process.exit(1);
  }, (SELECTED.length * (SECONDS * 2 + 90) + 300) * 1000);
  watchdog.unref();

  process.stderr.write('bench: starting Behalf (PostgreSQL, migrations, demo seed at bcrypt cost 12)…\n');
  const server = await startBenchServer();
  const stop = () => server.stop().catch((error: unknown) => console.error('bench: stop failed', error));
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  const rows: Row[] = [];
  try {
    // Warm-up (not recorded): JIT, connection pool, key caches.
    const baselineRequest = setupBaseline();
    await drive({ url: server.issuer, connections: CONNECTIONS, seconds: Math.min(3, SECONDS), request: baselineRequest });
    const baseline = await http(server, 'baseline', baselineRequest, undefined);
    baseline.ratio = 1;
    rows.push(baseline);
    const base = baseline.requests_per_s;

    let pool: Awaited<ReturnType<typeof setupImpersonation>> | undefined;
    if (SELECTED.includes('impersonation') || SELECTED.includes('kit-verify')) {
      process.stderr.write('bench: re-authenticating the agent pool through the re-auth form…\n');
      pool = await setupImpersonation(server);
    }
    if (SELECTED.includes('impersonation')) rows.push(await http(server, 'impersonation', pool!.request, base));
    if (SELECTED.includes('introspection')) rows.push(await http(server, 'introspection', await setupIntrospection(server), base));
    if (SELECTED.includes('directory-search')) rows.push(await http(server, 'directory-search', await setupDirectory(server), base));
    if (SELECTED.includes('kit-verify')) {
      process.stderr.write(`bench: kit-verify (${SECONDS} s, in-process)…\n`);
      const tokens = await onBehalfJwts(server, pool!.entries);
      const rss = () => Math.round(process.memoryUsage().rss / 1024 / 1024);
      const { kit, raw } = await kitVerify(server.issuer, ORDERS_API, tokens, SECONDS);
      rows.push({ scenario: 'jose-verify', connections: 1, requests_per_s: round(raw.per_s), p50_ms: raw.p50_ms, p95_ms: raw.p95_ms, p99_ms: raw.p99_ms, errors: raw.errors, rss_mb: rss(), ratio: 1, ratio_to: 'jose-verify' });
      rows.push({ scenario: 'kit-verify', connections: 1, requests_per_s: round(kit.per_s), p50_ms: kit.p50_ms, p95_ms: kit.p95_ms, p99_ms: kit.p99_ms, errors: kit.errors, rss_mb: rss(), ratio: round(kit.per_s / raw.per_s, 2), ratio_to: 'jose-verify' });
    }
  } finally {
    await stop();
  }

  console.table(rows);
  const dir = join(projectRoot(), 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  const meta = { started: started.toISOString(), seconds: SECONDS, connections: CONNECTIONS, node: process.version, cpus: cpus().length, cpu_model: cpus()[0]?.model, loadavg_1m_at_start: round(load, 2), database: process.env.DATABASE_URL ? 'external' : 'embedded' };
  writeFileSync(file, `${JSON.stringify({ ...meta, rows }, null, 2)}\n`);
  console.log(`bench: written ${file}`);
  clearTimeout(watchdog);
}

main().catch((error: unknown) => {
  console.error('bench:', error);
  process.exit(1);
});
