/**
 * The bench as functions, for `run.ts` (the `npm run bench` command) and for
 * other orchestrators (scale runs): prepare the database → (fill it further)
 * → start Behalf as its own process → run the scenarios → rows.
 *
 *   const report = await runBench({ ...options, beforeStart: (url, log) => seedScale(url, size, log) });
 *
 * or step by step with prepareBenchDatabase, startBenchBehalf and
 * runScenarios. Each scenario's setup happens right before its load, against
 * the running processes over HTTP; a scenario whose setup or load fails is
 * reported in `failures` and the others still run.
 */
import { ORDERS_API } from '../../src/server/seed/demo-data.js';
import type { JSONWebKeySet } from 'jose';
import type { BehalfProcess } from '../support/behalf-process.js';
import { measureAppends, measureLog } from './audit-measure.js';
import { spawnFramework, type FrameworkProcess } from './framework-process.js';
import { kitVerify } from './kit-verify.js';
import { statusListSize } from './status-list.js';
import { drive, sampleRss } from './load-client.js';
import type { LoadRequest } from './load.js';
import { spawnOrdersApi, type OrdersApiProcess } from './orders-api-process.js';
import {
  onBehalfJwts,
  reauthPool,
  setupBaseline,
  setupDelegation,
  setupDirectory,
  setupOnBehalf,
  setupIntrospection,
  setupOrdersApi,
  setupUserinfo,
  type PoolEntry,
} from './scenarios.js';
import { prepareBenchDatabase, startBenchBehalf, type BenchDatabase } from './server.js';

/** In the order they run; `baseline` always runs (every ratio needs it). */
export const ALL_SCENARIOS = [
  'baseline',
  'framework',
  'audit-log',
  'on-behalf',
  'delegation',
  'introspection',
  'userinfo',
  'directory-search',
  'orders-api',
  'kit-verify',
  'status-list-1m',
] as const;

export interface Row {
  scenario: string;
  connections: number;
  requests_per_s: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  errors: number;
  /** Peak resident memory of the Behalf process while the scenario ran. */
  rss_mb: number;
  ratio: number | null;
  ratio_to: string;
  note?: string;
}

export interface Failure {
  scenario: string;
  error: string;
}

export interface BenchReport {
  rows: Row[];
  failures: Failure[];
}

export interface ScenarioOptions {
  seconds: number;
  connections: number;
  /** Names from ALL_SCENARIOS (unknown names are failures). */
  scenarios: readonly string[];
  /** Re-authentications in the agent pool (distinct customers), 1–64. */
  pool: number;
  /** Unrecorded baseline load first (JIT, connection pools, key caches). */
  warmupSeconds: number;
  log?: (line: string) => void;
}

export interface BenchOptions extends ScenarioOptions {
  /** A PostgreSQL server to create the throwaway databases on; default an embedded one. */
  serverUrl?: string;
  /** After migrations and the demo seed, before Behalf starts (e.g. a scale seed). */
  beforeStart?: (databaseUrl: string, log: (line: string) => void) => Promise<void>;
}

/** Tokens made in a scenario's setup live 600 s (access tokens, on-behalf tokens): a scenario must end well before. */
export const MAX_SECONDS = 540;
/** On-behalf sessions last 60 minutes at most: a pool older than this is replaced by a fresh one. */
const POOL_MAX_AGE_MS = 40 * 60_000;

const round = (value: number, digits = 1) => Number(value.toFixed(digits));

/** What a bench run has started and must stop, newest first: for an interrupted run (see interruptBench). */
const running: (() => Promise<unknown>)[] = [];
function started<T>(stop: () => Promise<unknown>, value: T): T {
  running.unshift(stop);
  return value;
}
function stopped(stop: () => Promise<unknown>): void {
  const index = running.indexOf(stop);
  if (index >= 0) running.splice(index, 1);
}

/** Stops whatever a bench run in this process has started (processes, then databases); for SIGINT/SIGTERM handlers. */
export async function interruptBench(): Promise<void> {
  for (const stop of running.splice(0)) await stop().catch(() => undefined);
}

const stderrLog = (line: string) => process.stderr.write(`${line}\n`);

export async function runScenarios(
  system: { behalf: BehalfProcess; database: BenchDatabase },
  options: ScenarioOptions,
): Promise<BenchReport> {
  const log = options.log ?? stderrLog;
  const { seconds, connections } = options;
  if (seconds > MAX_SECONDS)
    throw new Error(`bench: at most ${MAX_SECONDS} s per scenario (the tokens each setup makes live 600 s), got ${seconds}`);
  const { behalf, database } = system;
  const issuer = behalf.issuer;
  const rows: Row[] = [];
  const failures: Failure[] = [];
  const selected = new Set(options.scenarios);
  for (const name of selected)
    if (!(ALL_SCENARIOS as readonly string[]).includes(name))
      failures.push({ scenario: name, error: `unknown scenario (known: ${ALL_SCENARIOS.join(', ')})` });

  let base: number | undefined;
  const http = async (scenario: string, request: LoadRequest, url = issuer, others: Record<string, number> = {}): Promise<Row> => {
    log(`bench: ${scenario} (${seconds} s, ${connections} connections)…`);
    const { result, rss_mb } = await drive({ url, connections, seconds, request }, { behalf: behalf.pid, ...others });
    if (result.non2xx || result.socket_errors)
      log(
        `bench: ${scenario}: status codes ${JSON.stringify(result.status_codes)}, socket errors ${result.socket_errors} (timeouts ${result.timeouts})`,
      );
    const notes = Object.entries(others).map(([name]) => `${name} process peak RSS ${rss_mb[name]} MB`);
    return {
      scenario,
      connections,
      requests_per_s: round(result.requests_per_s),
      p50_ms: result.p50_ms,
      p95_ms: result.p95_ms,
      p99_ms: result.p99_ms,
      errors: result.non2xx + result.socket_errors,
      rss_mb: rss_mb.behalf!,
      ratio: base ? round(result.requests_per_s / base, 2) : null,
      ratio_to: 'baseline',
      ...(notes.length ? { note: notes.join('; ') } : {}),
    };
  };
  const attempt = async (scenario: string, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      const gone = behalf.child.exitCode !== null || behalf.child.signalCode !== null;
      const message = `${error instanceof Error ? error.message : String(error)}${gone ? `\nBehalf process has ended; its last output:\n${behalf.output()}` : ''}`;
      log(`bench: ${scenario} FAILED: ${message}`);
      failures.push({ scenario, error: message });
    }
  };

  // The agent's re-authentications, made when first needed and used at once (the session must open within 300 s).
  let pool: { entries: PoolEntry[]; at: number } | undefined;
  const agentPool = async (): Promise<PoolEntry[]> => {
    if (!pool || Date.now() - pool.at > POOL_MAX_AGE_MS) {
      log(`bench: re-authenticating the agent for ${options.pool} customers through the re-auth form…`);
      pool = { entries: await reauthPool(issuer, database.customers, options.pool), at: Date.now() };
    }
    return pool.entries;
  };
  /** On-behalf JWTs made now, that outlive the scenario. */
  const freshJwts = async (): Promise<string[]> => {
    const { tokens, expiresAt } = await onBehalfJwts(issuer, await agentPool());
    if (expiresAt < Date.now() + (seconds + 15) * 1000)
      throw new Error(`on-behalf tokens expire in ${Math.round((expiresAt - Date.now()) / 1000)} s, before a ${seconds} s scenario ends`);
    return tokens;
  };

  await attempt('baseline', async () => {
    const request = setupBaseline();
    if (options.warmupSeconds > 0) await drive({ url: issuer, connections, seconds: options.warmupSeconds, request }, {});
    const row = await http('baseline', request);
    row.ratio = 1;
    base = row.requests_per_s;
    rows.push(row);
  });
  if (selected.has('framework')) {
    // The same request, the same load generator and process layout, against oidc-provider alone (in-memory adapter).
    await attempt('framework', async () => {
      let framework: FrameworkProcess | undefined;
      try {
        framework = await spawnFramework();
        started(framework.stop, framework);
        const request = setupBaseline();
        if (options.warmupSeconds > 0) await drive({ url: framework.url, connections, seconds: options.warmupSeconds, request }, {});
        const row = await http('oidc-provider-alone', request, framework.url, { framework: framework.pid });
        row.rss_mb = 0;
        row.ratio = base ? round(base / row.requests_per_s, 2) : null;
        row.ratio_to = 'baseline ÷ this (target ≥ 0.5)';
        row.note = 'oidc-provider alone, in-memory adapter, no database, no audit';
        rows.push(row);
      } finally {
        if (framework) {
          stopped(framework.stop);
          await framework.stop();
        }
      }
    });
  }
  if (selected.has('audit-log')) {
    await attempt('audit-log', async () => {
      const { createDataSource } = await import('../../src/server/db/data-source.js');
      const dataSource = createDataSource({ url: database.url, poolSize: 20 });
      await dataSource.initialize();
      try {
        log(`bench: audit-log (${seconds} s each: unaudited inserts, then audited appends, 16 writers)…`);
        const [append] = await measureAppends(dataSource, seconds, [16]);
        const keys = (await (await fetch(`${issuer}/jwks`)).json()) as JSONWebKeySet;
        const costs = await measureLog(dataSource, { running: { keys, issuer } });
        const rss = 0;
        const common = { connections: 16, errors: 0, rss_mb: rss, p50_ms: 0, p95_ms: 0 };
        rows.push({
          ...common,
          scenario: 'insert-unaudited',
          requests_per_s: append!.unaudited_per_s,
          p99_ms: append!.unaudited_p99_ms,
          ratio: 1,
          ratio_to: 'insert-unaudited',
          note: 'same rows, same indexes, no log; in the bench process',
        });
        rows.push({
          ...common,
          scenario: 'audit-append',
          requests_per_s: append!.audited_per_s,
          p99_ms: append!.audited_p99_ms,
          ratio: append!.ratio,
          ratio_to: 'insert-unaudited (target ≥ 0.9)',
          note: 'audited appends with the sequencer running (Behalf’s)',
        });
        rows.push({
          ...common,
          connections: 1,
          scenario: 'audit-verify',
          requests_per_s: round(costs.events / Math.max(costs.verify_ms / 1000, 0.001)),
          p50_ms: costs.proof_p50_ms,
          p95_ms: costs.proof_max_ms,
          p99_ms: costs.proof_max_ms,
          ratio: null,
          ratio_to: '',
          note: `verify of ${costs.events} events: ${costs.verify_ms} ms, peak heap ${costs.verify_peak_heap_mb} MB (events/s in requests_per_s); inclusion proof p50 ${costs.proof_p50_ms} ms, max ${costs.proof_max_ms} ms (in p50/p99); worst wait for a seq ${costs.worst_wait_ms} ms`,
        });
      } finally {
        await dataSource.destroy();
      }
    });
  }
  if (selected.has('on-behalf'))
    await attempt('on-behalf', async () => rows.push(await http('on-behalf', setupOnBehalf(await agentPool()))));
  if (selected.has('delegation'))
    await attempt('delegation', async () => rows.push(await http('delegation', await setupDelegation(issuer, await freshJwts()))));
  if (selected.has('introspection'))
    await attempt('introspection', async () => rows.push(await http('introspection', await setupIntrospection(issuer))));
  if (selected.has('userinfo'))
    await attempt('userinfo', async () =>
      rows.push(await http('userinfo', await setupUserinfo(issuer, database.customers, Math.min(options.pool, 8)))),
    );
  if (selected.has('directory-search'))
    await attempt('directory-search', async () => rows.push(await http('directory-search', await setupDirectory(issuer))));
  if (selected.has('orders-api')) {
    await attempt('orders-api', async () => {
      log('bench: starting the orders API (its own process and database)…');
      let orders: OrdersApiProcess | undefined;
      try {
        orders = await spawnOrdersApi({ issuer, databaseUrl: await database.createDatabase('orders') });
        started(orders.stop, orders);
        const request = await setupOrdersApi(orders.url, await freshJwts());
        rows.push(await http('orders-api', request, orders.url, { 'orders-api': orders.pid }));
      } catch (error) {
        if (orders && error instanceof Error) error.message += `\norders API output:\n${orders.output()}`;
        throw error;
      } finally {
        if (orders) {
          stopped(orders.stop);
          await orders.stop();
        }
      }
    });
  }
  if (selected.has('kit-verify')) {
    await attempt('kit-verify', async () => {
      const tokens = await freshJwts();
      log(`bench: kit-verify (${seconds} s, in the bench process)…`);
      const sampler = sampleRss({ behalf: behalf.pid });
      const { kit, raw, withStatus } = await kitVerify(issuer, ORDERS_API, tokens, seconds);
      const rss = sampler.stop().behalf!;
      const note = 'in the bench process, no HTTP; rss_mb is Behalf, idle';
      rows.push({
        scenario: 'jose-verify',
        connections: 1,
        requests_per_s: round(raw.per_s),
        p50_ms: raw.p50_ms,
        p95_ms: raw.p95_ms,
        p99_ms: raw.p99_ms,
        errors: raw.errors,
        rss_mb: rss,
        ratio: 1,
        ratio_to: 'jose-verify',
        note,
      });
      rows.push({
        scenario: 'kit-verify',
        connections: 1,
        requests_per_s: round(kit.per_s),
        p50_ms: kit.p50_ms,
        p95_ms: kit.p95_ms,
        p99_ms: kit.p99_ms,
        errors: kit.errors,
        rss_mb: rss,
        ratio: round(kit.per_s / raw.per_s, 2),
        ratio_to: 'jose-verify',
        note,
      });
      rows.push({
        scenario: 'kit-status-list',
        connections: 1,
        requests_per_s: round(withStatus.per_s),
        p50_ms: withStatus.p50_ms,
        p95_ms: withStatus.p95_ms,
        p99_ms: withStatus.p99_ms,
        errors: withStatus.errors,
        rss_mb: rss,
        ratio: round(withStatus.per_s / kit.per_s, 2),
        ratio_to: 'kit-verify',
        note: `${note}; the token status list checked (refetched every 4 s)`,
      });
    });
  }
  if (selected.has('status-list-1m')) {
    await attempt('status-list-1m', async () => {
      log(`bench: status-list-1m (${seconds} s, in the bench process)…`);
      const size = await statusListSize(seconds);
      rows.push({
        scenario: 'status-list-1m',
        connections: 1,
        requests_per_s: round(size.renders_per_s),
        p50_ms: round(size.render_ms),
        p95_ms: round(size.render_ms),
        p99_ms: round(size.render_ms),
        errors: 0,
        rss_mb: 0,
        ratio: null,
        ratio_to: 'none',
        note: `${size.tokens} tokens, ${size.revoked} revoked at random: lst ${size.lst_bytes} B compressed (${size.raw_bytes} B raw), status list JWT ${size.jwt_bytes} B; rate = renders+signs per s`,
      });
    });
  }
  return { rows, failures };
}

/** The whole bench on a throwaway database: everything it started is stopped and dropped, also on failure. */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const log = options.log ?? stderrLog;
  log(`bench: preparing a database (${options.serverUrl ? 'on the given server' : 'embedded PostgreSQL'})…`);
  const database = await prepareBenchDatabase({ ...(options.serverUrl ? { serverUrl: options.serverUrl } : {}), log });
  started(database.drop, database);
  let behalf: BehalfProcess | undefined;
  try {
    if (options.beforeStart) await options.beforeStart(database.url, log);
    log('bench: starting Behalf (its own process)…');
    behalf = await startBenchBehalf(database);
    started(behalf.stop, behalf);
    return await runScenarios({ behalf, database }, options);
  } finally {
    if (behalf) {
      stopped(behalf.stop);
      const ended = await behalf.stop();
      if (ended.code !== 0) log(`bench: Behalf process ended with ${ended.signal ?? `code ${ended.code}`}`);
    }
    stopped(database.drop);
    await database.drop();
  }
}
