/**
 * The audit log measured on its own, against a migrated database: audited
 * appends (the writer's enqueue, in a transaction, with the sequencer running
 * as in production) against unaudited inserts of the same rows into a plain
 * copy of the table (same columns and indexes, no function, no sequencer),
 * at several writer counts; then the log's own costs: the longest a record
 * waited for its seq, verification of the whole log (time, peak memory) and
 * inclusion proofs for events spread over it.
 */
import type { DataSource } from 'typeorm';
import {
  AuditRepository,
  AuditSequencer,
  AuditWriter,
  jwkTreeHeadSigner,
  jwksCheckpointVerifier,
  jwksTreeHeadVerifier,
  verifyChain,
  type TreeHead,
} from '../../src/audit/index.js';
import { exportJWK, generateKeyPair, type JSONWebKeySet } from 'jose';

export interface AppendRow {
  writers: number;
  unaudited_per_s: number;
  audited_per_s: number;
  ratio: number;
  unaudited_p99_ms: number;
  audited_p99_ms: number;
}

export interface LogCosts {
  events: number;
  worst_wait_ms: number;
  verify_ms: number;
  verify_peak_heap_mb: number;
  proof_p50_ms: number;
  proof_max_ms: number;
}

const EVENT = {
  type: 'token.issued' as const,
  actor: 'client:integrator-demo',
  clientId: 'integrator-demo',
  details: { grant_type: 'client_credentials', scope: 'orders:read', jti: 'x'.repeat(43) },
};

async function timed(writers: number, seconds: number, run: () => Promise<unknown>): Promise<{ perSecond: number; p99: number }> {
  const latencies: number[] = [];
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (Date.now() < end) {
        const start = process.hrtime.bigint();
        await run();
        latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { perSecond: latencies.length / seconds, p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0 };
}

export async function measureAppends(dataSource: DataSource, seconds: number, writerCounts: number[]): Promise<AppendRow[]> {
  await dataSource.query(`DROP TABLE IF EXISTS bench_unaudited`);
  await dataSource.query(`CREATE TABLE bench_unaudited (LIKE audit_event INCLUDING DEFAULTS INCLUDING INDEXES)`);
  const writer = new AuditWriter();
  const sequencer = new AuditSequencer(dataSource);
  sequencer.start();
  const rows: AppendRow[] = [];
  try {
    for (const writers of writerCounts) {
      // The same row, written the way the writer would (its columns, its content hash), minus the log.
      const unaudited = await timed(writers, seconds, () =>
        dataSource.transaction((manager) =>
          manager.query(
            `INSERT INTO bench_unaudited (id, occurred_at, type, actor, client_id, details, content_hash, queued_at) VALUES (gen_random_uuid(), now(), $1, $2, $3, $4, $5, clock_timestamp())`,
            [EVENT.type, EVENT.actor, EVENT.clientId, JSON.stringify(EVENT.details), 'f'.repeat(64)],
          ),
        ),
      );
      const audited = await timed(writers, seconds, () => dataSource.transaction((manager) => writer.append(manager, EVENT)));
      rows.push({
        writers,
        unaudited_per_s: Math.round(unaudited.perSecond),
        audited_per_s: Math.round(audited.perSecond),
        ratio: Number((audited.perSecond / unaudited.perSecond).toFixed(2)),
        unaudited_p99_ms: Number(unaudited.p99.toFixed(2)),
        audited_p99_ms: Number(audited.p99.toFixed(2)),
      });
    }
  } finally {
    await sequencer.stop();
    await dataSource.query(`DROP TABLE IF EXISTS bench_unaudited`);
  }
  return rows;
}

/**
 * The log's own costs on whatever `dataSource` holds (the bench's, or a scale
 * database's 10 M events). With `running`, a Behalf sequences and signs it
 * (its heads are checked with its published keys); without, a sequencer here
 * drains it and signs with a key of its own.
 */
export async function measureLog(
  dataSource: DataSource,
  options: { running?: { keys: JSONWebKeySet; issuer: string }; proofs?: number } = {},
): Promise<LogCosts> {
  const proofs = options.proofs ?? 200;
  const sequencer = new AuditSequencer(dataSource, 'audit_event', { batchSize: 20_000 });
  let keys: JSONWebKeySet;
  let issuer: string;
  let head: TreeHead;
  if (options.running) {
    ({ keys, issuer } = options.running);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const [{ pending }] = (await dataSource.query(`SELECT count(*)::int AS pending FROM audit_event WHERE seq IS NULL`)) as [
        { pending: number },
      ];
      const latest = await sequencer.store.latestTreeHead(dataSource);
      if (pending === 0 && latest && latest.treeSize === (await sequencer.store.treeSize(dataSource))) {
        head = latest;
        break;
      }
      if (Date.now() > deadline) throw new Error('bench: the running sequencer did not catch up within 120 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } else {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    issuer = 'bench';
    const signer = jwkTreeHeadSigner({ ...(await exportJWK(privateKey)), kid: 'bench', alg: 'ES256' }, issuer);
    keys = { keys: [{ ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES256' }] };
    head = (await new AuditSequencer(dataSource, 'audit_event', { batchSize: 20_000, signer: async () => signer }).drain())!;
  }
  const [{ worst }] = (await dataSource.query(
    `SELECT coalesce(max(extract(epoch FROM sequenced_at - queued_at)), 0)::float * 1000 AS worst FROM audit_event WHERE queued_at IS NOT NULL`,
  )) as [{ worst: number }];

  const store = new AuditRepository(dataSource);
  let peak = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 50);
  const started = process.hrtime.bigint();
  const result = await verifyChain(
    'audit_event',
    store.stream(10_000),
    await store.checkpoints(),
    jwksCheckpointVerifier(keys, 'bench'),
    undefined,
    {
      heads: [head],
      verify: jwksTreeHeadVerifier(keys, issuer),
    },
  );
  const verifyMs = Number(process.hrtime.bigint() - started) / 1e6;
  clearInterval(sampler);
  if (!result.log?.lastTreeHead)
    throw new Error(`bench: the log did not verify against its head: ${result.problem?.reason ?? 'no head matched'}`);

  const times: number[] = [];
  for (let i = 0; i < proofs; i += 1) {
    const seq = 1 + Math.floor(((i + 0.5) / proofs) * head.treeSize);
    const t0 = process.hrtime.bigint();
    await sequencer.store.inclusionPath(dataSource, seq, head.treeSize);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return {
    events: result.events,
    worst_wait_ms: Math.round(worst),
    verify_ms: Math.round(verifyMs),
    verify_peak_heap_mb: Math.round(peak / 1024 / 1024),
    proof_p50_ms: Number(times[Math.floor(times.length / 2)]!.toFixed(2)),
    proof_max_ms: Number(times.at(-1)!.toFixed(2)),
  };
}
