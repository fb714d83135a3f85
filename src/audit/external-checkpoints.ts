/**
 * Signed checkpoints kept where the database's roles cannot reach. Whoever
 * can write to the database can rewrite the chain, recompute every hash and
 * replace the checkpoints stored beside it; a copy of each signed head kept
 * elsewhere still shows what the chain was. The default destination is an
 * append-only file per chain; other destinations (object storage with a
 * retention lock, a transparency log) implement the same two methods.
 */
import { mkdir, open, readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ExportFormatError, readExport } from './export.js';
import type { AuditCheckpoint } from './types.js';

/** A checkpoint as kept outside the database: the JWS is what counts; seq and hash are for people. */
export type ExternalCheckpoint = Omit<AuditCheckpoint, 'id'> & { table: string };

export interface ExternalCheckpointArchive {
  /** Where the checkpoints go, for messages (a path, a URL); never a secret. */
  readonly location: string;
  /** Durably appends one checkpoint; throws if it cannot. */
  append(checkpoint: ExternalCheckpoint): Promise<void>;
  /** Every checkpoint of this store's chain, oldest first; none when nothing was written yet. */
  readAll(): Promise<ExternalCheckpoint[]>;
}

export class ExternalCheckpointError extends Error {
  override name = 'ExternalCheckpointError';
}

/** The file name a chain's checkpoints go to inside the folder. */
export function checkpointFileName(table: string): string {
  return `${table}.checkpoints.jsonl`;
}

/** The file name a log's signed tree heads go to (same line format: seq = tree size, hash = root). */
export function treeHeadFileName(table: string): string {
  return `${table}.tree-heads.jsonl`;
}

function toLine(checkpoint: ExternalCheckpoint): string {
  return `${JSON.stringify({ kind: 'checkpoint', table: checkpoint.table, seq: checkpoint.seq, hash: checkpoint.hash, created_at: checkpoint.createdAt.toISOString(), jws: checkpoint.jws })}\n`;
}

const LINE_START = '{"kind":"checkpoint"';

function fromLine(line: string, where: string): ExternalCheckpoint {
  // A fragment torn by a crash, then the next complete line appended to it: keep the complete one.
  const text = line.slice(Math.max(0, line.lastIndexOf(LINE_START)));
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ExternalCheckpointError(`${where} is not JSON`);
  }
  const { kind, table, seq, hash, created_at: createdAt, jws } = record;
  if (
    kind !== 'checkpoint' ||
    typeof table !== 'string' ||
    typeof seq !== 'number' ||
    typeof hash !== 'string' ||
    typeof createdAt !== 'string' ||
    typeof jws !== 'string'
  ) {
    throw new ExternalCheckpointError(`${where} is not a checkpoint`);
  }
  return { table, seq, hash, createdAt: new Date(createdAt), jws };
}

/**
 * JSON lines in `<dir>/<table>.checkpoints.jsonl` (dir 0700, file 0600).
 * Several processes may append at once: each line is one write() on an
 * O_APPEND descriptor, so lines never interleave, and it is fsync'd before
 * `append` returns. A crash mid-write can leave a fragment without its
 * newline; the next append then lands on the same line, after it, and
 * `readAll` drops the fragment (see `fromLine`).
 */
export class FileCheckpointArchive implements ExternalCheckpointArchive {
  readonly location: string;
  private dirSynced = false;

  constructor(
    private readonly dir: string,
    private readonly table: string,
    fileName = checkpointFileName(table),
  ) {
    this.location = join(dir, fileName);
  }

  async append(checkpoint: ExternalCheckpoint): Promise<void> {
    if (checkpoint.table !== this.table)
      throw new ExternalCheckpointError(`a ${checkpoint.table} checkpoint does not belong in ${this.location}`);
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const file = await open(this.location, 'a', 0o600);
      try {
        const line = Buffer.from(toLine(checkpoint));
        const { bytesWritten } = await file.write(line);
        if (bytesWritten !== line.length) throw new Error(`short write (${bytesWritten} of ${line.length} bytes)`);
        await file.sync();
      } finally {
        await file.close();
      }
      if (!this.dirSynced) {
        // The file's directory entry must be durable too, the first time round.
        const dir = await open(this.dir, 'r');
        try {
          await dir.sync();
        } finally {
          await dir.close();
        }
        this.dirSynced = true;
      }
    } catch (error) {
      if (error instanceof ExternalCheckpointError) throw error;
      throw new ExternalCheckpointError(
        `cannot append to ${this.location}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  }

  async readAll(): Promise<ExternalCheckpoint[]> {
    return (await readCheckpointFile(this.location)).filter((checkpoint) => checkpoint.table === this.table);
  }
}

async function readCheckpointFile(path: string): Promise<ExternalCheckpoint[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ExternalCheckpointError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const lines = text.split('\n');
  lines.pop(); // after the last newline: empty, or a fragment torn by a crash mid-write
  return lines.flatMap((line, index) => (line.trim() ? [fromLine(line, `${path} line ${index + 1}`)] : []));
}

/**
 * Reads checkpoints from copies an auditor holds: a folder (a copy of the
 * external checkpoint folder), one checkpoint file, or an audit export.
 */
export async function readCheckpointCopies(paths: string[], table: string): Promise<ExternalCheckpoint[]> {
  const all: ExternalCheckpoint[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => {
      throw new ExternalCheckpointError(`no such file or folder: ${path}`);
    });
    if (info.isDirectory()) {
      const names = (await readdir(path)).filter((name) => name === checkpointFileName(table));
      for (const name of names) all.push(...(await readCheckpointFile(join(path, name))));
      continue;
    }
    try {
      const exported = await readExport(path);
      if (exported.header.table === table)
        all.push(...exported.checkpoints.map(({ seq, hash, createdAt, jws }) => ({ table, seq, hash, createdAt, jws })));
    } catch (error) {
      if (!(error instanceof ExportFormatError)) throw error;
      all.push(...(await readCheckpointFile(path)));
    }
  }
  return all.filter((checkpoint) => checkpoint.table === table);
}

/** A short name for a source in one-line verdicts. */
export function describeSources(paths: string[]): string {
  return paths.length === 1 ? paths[0]! : `${paths.length} copies (${paths.map((path) => basename(path)).join(', ')})`;
}

/** Signed tree heads from copies an auditor holds: a folder, a tree-head file, or an audit export. */
export async function readTreeHeadCopies(paths: string[], table: string): Promise<ExternalCheckpoint[]> {
  const all: ExternalCheckpoint[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => {
      throw new ExternalCheckpointError(`no such file or folder: ${path}`);
    });
    if (info.isDirectory()) {
      if ((await readdir(path)).includes(treeHeadFileName(table)))
        all.push(...(await readCheckpointFile(join(path, treeHeadFileName(table)))));
      continue;
    }
    try {
      const exported = await readExport(path);
      if (exported.header.table === table)
        all.push(
          ...exported.treeHeads.map(({ treeSize, rootHash, createdAt, jws }) => ({ table, seq: treeSize, hash: rootHash, createdAt, jws })),
        );
    } catch (error) {
      if (!(error instanceof ExportFormatError)) throw error;
      all.push(...(await readCheckpointFile(path)));
    }
  }
  return all.filter((head) => head.table === table);
}
