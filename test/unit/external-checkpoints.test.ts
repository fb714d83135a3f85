/** The file store for external checkpoints: permissions, concurrent appends, a line torn by a crash. */
import { appendFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExternalCheckpointError, FileCheckpointArchive, readCheckpointCopies, type ExternalCheckpoint } from '../../src/audit/index.js';

const base = mkdtempSync(join(tmpdir(), 'behalf-external-checkpoints-'));
let n = 0;
const freshDir = () => join(base, `run-${(n += 1)}`, 'checkpoints');

function checkpoint(seq: number): ExternalCheckpoint {
  return {
    table: 'audit_event',
    seq,
    hash: seq.toString(16).padStart(64, '0'),
    createdAt: new Date(Date.UTC(2026, 11, 5, 9, 0, seq)),
    jws: `header.payload-${seq}.signature`,
  };
}

it('appends JSON lines to a 0600 file in a 0700 folder, and reads them back', async () => {
  const dir = freshDir();
  const store = new FileCheckpointArchive(dir, 'audit_event');
  await store.append(checkpoint(1));
  await store.append(checkpoint(2));
  expect(await store.readAll()).toEqual([checkpoint(1), checkpoint(2)]);
  expect(store.location).toBe(join(dir, 'audit_event.checkpoints.jsonl'));
  expect(statSync(dir).mode & 0o777).toBe(0o700);
  expect(statSync(store.location).mode & 0o777).toBe(0o600);
  const lines = readFileSync(store.location, 'utf8').split('\n');
  expect(JSON.parse(lines[0]!)).toEqual({
    kind: 'checkpoint',
    table: 'audit_event',
    seq: 1,
    hash: checkpoint(1).hash,
    created_at: '2026-12-05T09:00:01.000Z',
    jws: 'header.payload-1.signature',
  });
});

it('keeps every line whole when several writers append at once', async () => {
  const dir = freshDir();
  const writers = [0, 1, 2, 3].map(() => new FileCheckpointArchive(dir, 'audit_event'));
  await Promise.all(Array.from({ length: 200 }, (_, i) => writers[i % 4]!.append(checkpoint(i + 1))));
  const read = await writers[0]!.readAll();
  expect(read.map((c) => c.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
});

it('drops a fragment a crash tore, with or without a line appended after it', async () => {
  const dir = freshDir();
  const store = new FileCheckpointArchive(dir, 'audit_event');
  await store.append(checkpoint(1));
  appendFileSync(store.location, '{"kind":"checkpoint","table":"audit_ev');
  expect(await store.readAll()).toEqual([checkpoint(1)]);
  await store.append(checkpoint(2));
  expect(await store.readAll()).toEqual([checkpoint(1), checkpoint(2)]);
});

it('refuses a line that is not a checkpoint, and reports a write it cannot make', async () => {
  const dir = freshDir();
  const store = new FileCheckpointArchive(dir, 'audit_event');
  await store.append(checkpoint(1));
  appendFileSync(store.location, 'edited by hand\n');
  await expect(store.readAll()).rejects.toThrow(/line 2 is not JSON/);

  const blocker = join(base, `blocker-${(n += 1)}`);
  writeFileSync(blocker, '');
  const blocked = new FileCheckpointArchive(join(blocker, 'checkpoints'), 'audit_event');
  await expect(blocked.append(checkpoint(1))).rejects.toThrow(ExternalCheckpointError);
  await expect(blocked.append(checkpoint(1))).rejects.toThrow(/^cannot append to .*audit_event\.checkpoints\.jsonl: ENOTDIR$/);
});

it('reads an auditor’s copies: a folder or a single file, only the chain asked for', async () => {
  const dir = freshDir();
  await new FileCheckpointArchive(dir, 'audit_event').append(checkpoint(1));
  await new FileCheckpointArchive(dir, 'orders_audit_event').append({ ...checkpoint(7), table: 'orders_audit_event' });
  expect(await readCheckpointCopies([dir], 'audit_event')).toEqual([checkpoint(1)]);
  expect(await readCheckpointCopies([join(dir, 'orders_audit_event.checkpoints.jsonl')], 'orders_audit_event')).toEqual([
    { ...checkpoint(7), table: 'orders_audit_event' },
  ]);
  await expect(readCheckpointCopies([join(dir, 'missing')], 'audit_event')).rejects.toThrow(/no such file or folder/);
});
