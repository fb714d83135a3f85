/** Where Behalf's signed checkpoints go outside the database (config `audit.externalCheckpoints`). */
import { resolve } from 'node:path';
import type { Config } from '../../../config/load.js';
import { FileCheckpointArchive, treeHeadFileName, type ExternalCheckpointArchive } from '../../audit/index.js';

/** The configured store for a chain, or undefined when switched off (`dir: null`). */
export function externalCheckpointArchive(config: Config, table: string): ExternalCheckpointArchive | undefined {
  const { dir } = config.audit.externalCheckpoints;
  // Resolved once, at start: a relative folder means the working directory Behalf was started in.
  return dir === null ? undefined : new FileCheckpointArchive(resolve(dir), table);
}

/** The configured store for a log's signed tree heads (same folder, `<table>.tree-heads.jsonl`). */
export function externalTreeHeadArchive(config: Config, table: string): ExternalCheckpointArchive | undefined {
  const { dir } = config.audit.externalCheckpoints;
  return dir === null ? undefined : new FileCheckpointArchive(resolve(dir), table, treeHeadFileName(table));
}
