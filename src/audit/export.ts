/**
 * JSON-lines export of a whole chain, verifiable offline: a header line (with
 * the public keys that signed the checkpoints), then the checkpoints, then
 * every event in order. `readExport` turns such a file back into what
 * `verifyChain` takes.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { JSONWebKeySet } from 'jose';
import { fromJson, toJson, type StoredAuditEvent } from './rows.js';
import type { AuditRepository } from './repository.js';
import type { AuditCheckpoint } from './types.js';

export const EXPORT_FORMAT = 'behalf-audit-export/1';

export interface ExportHeader {
  format: typeof EXPORT_FORMAT;
  table: string;
  issuer: string;
  exported_at: string;
  head: { seq: number; hash: string } | null;
  keys: JSONWebKeySet;
}

export interface ExportedTreeHead {
  treeSize: number;
  rootHash: string;
  createdAt: Date;
  jws: string;
}

export async function exportChain(
  store: AuditRepository,
  meta: { table: string; issuer: string; keys: JSONWebKeySet; treeHeads?: ExportedTreeHead[] },
  write: (line: string) => Promise<void> | void,
): Promise<number> {
  const header: ExportHeader = {
    format: EXPORT_FORMAT,
    table: meta.table,
    issuer: meta.issuer,
    exported_at: new Date().toISOString(),
    head: (await store.head()) ?? null,
    keys: meta.keys,
  };
  await write(JSON.stringify({ kind: 'header', ...header }));
  for (const checkpoint of await store.checkpoints()) {
    await write(
      JSON.stringify({
        kind: 'checkpoint',
        id: checkpoint.id,
        seq: checkpoint.seq,
        hash: checkpoint.hash,
        created_at: checkpoint.createdAt.toISOString(),
        jws: checkpoint.jws,
      }),
    );
  }
  for (const head of meta.treeHeads ?? []) {
    await write(
      JSON.stringify({
        kind: 'tree_head',
        tree_size: head.treeSize,
        root_hash: head.rootHash,
        created_at: head.createdAt.toISOString(),
        jws: head.jws,
      }),
    );
  }
  let count = 0;
  for await (const event of store.stream()) {
    await write(JSON.stringify({ kind: 'event', ...toJson(event) }));
    count += 1;
  }
  return count;
}

export class ExportFormatError extends Error {
  override name = 'ExportFormatError';
}

export interface ParsedExport {
  header: ExportHeader;
  checkpoints: AuditCheckpoint[];
  treeHeads: ExportedTreeHead[];
  events: AsyncIterable<StoredAuditEvent>;
}

/** Reads an export file; events are streamed, so large files stay cheap. */
export async function readExport(path: string): Promise<ParsedExport> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })[Symbol.asyncIterator]();
  let lineNumber = 0;
  const parse = (text: string): Record<string, unknown> => {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new ExportFormatError(`line ${lineNumber} is not JSON`);
    }
  };
  const first = await lines.next();
  lineNumber = 1;
  const header = first.done ? undefined : parse(first.value);
  if (!header || header.kind !== 'header' || header.format !== EXPORT_FORMAT) throw new ExportFormatError(`not a ${EXPORT_FORMAT} file`);
  const checkpoints: AuditCheckpoint[] = [];
  const treeHeads: ExportedTreeHead[] = [];
  let pending: Record<string, unknown> | undefined;
  for (;;) {
    const next = await lines.next();
    if (next.done) break;
    lineNumber += 1;
    if (!next.value.trim()) continue;
    const record = parse(next.value);
    if (record.kind === 'checkpoint') {
      checkpoints.push({
        id: Number(record.id),
        seq: Number(record.seq),
        hash: String(record.hash),
        createdAt: new Date(String(record.created_at)),
        jws: String(record.jws),
      });
      continue;
    }
    if (record.kind === 'tree_head') {
      treeHeads.push({
        treeSize: Number(record.tree_size),
        rootHash: String(record.root_hash),
        createdAt: new Date(String(record.created_at)),
        jws: String(record.jws),
      });
      continue;
    }
    pending = record;
    break;
  }
  async function* events(): AsyncGenerator<StoredAuditEvent> {
    if (pending) {
      if (pending.kind !== 'event') throw new ExportFormatError(`line ${lineNumber}: unexpected ${String(pending.kind)}`);
      yield fromJson(pending);
    }
    for (;;) {
      const next = await lines.next();
      if (next.done) return;
      lineNumber += 1;
      if (!next.value.trim()) continue;
      const record = parse(next.value);
      if (record.kind !== 'event') throw new ExportFormatError(`line ${lineNumber}: unexpected ${String(record.kind)}`);
      yield fromJson(record);
    }
  }
  return { header: header as unknown as ExportHeader, checkpoints, treeHeads, events: events() };
}
