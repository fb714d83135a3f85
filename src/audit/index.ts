/**
 * The audit trail: append-only, hash-chained, sealed by signed checkpoints.
 * No dependency on src/server: resource servers reuse it for their own chains.
 */
export { AuditWriter, AuditWriteError, COMPANION_FIRST_PARAM, type AppendedEvent, type Companion } from './writer.js';
export {
  AuditRepository,
  AuditCursorError,
  MAX_PAGE,
  formatAuditCursor,
  parseAuditCursor,
  type AuditCursor,
  type AuditQuery,
  type AuditPage,
} from './repository.js';
export {
  verifyChain,
  describeVerification,
  MAX_PENDING_MS,
  verificationGaps,
  type VerifyResult,
  type VerifyProblem,
  type CheckpointVerifier,
  type ExternalCheckpoints,
  type TreeHeadSources,
} from './verify.js';
export {
  FileCheckpointArchive,
  ExternalCheckpointError,
  checkpointFileName,
  treeHeadFileName,
  readCheckpointCopies,
  readTreeHeadCopies,
  describeSources,
  type ExternalCheckpoint,
  type ExternalCheckpointArchive,
} from './external-checkpoints.js';
export { createCheckpoint, jwkCheckpointSigner, jwksCheckpointVerifier, CHECKPOINT_TYP, type CheckpointSigner } from './checkpoint.js';
export { exportChain, readExport, ExportFormatError, EXPORT_FORMAT, type ExportHeader, type ParsedExport } from './export.js';
export { auditSchemaUp, auditSchemaDown, auditLogSchemaUp, auditPagingIndexesUp } from './schema.js';
export { toJson as auditEventToJson, type StoredAuditEvent } from './rows.js';
export { canonicalJson, type JsonValue } from './canonical-json.js';
export {
  AUDIT_EVENT_TYPES,
  GENESIS_HASH,
  isValidEventType,
  type AuditEvent,
  type AuditEventInput,
  type AuditEventType,
  type AuditCheckpoint,
  type OverduePending,
} from './types.js';
export { tokenReference } from './token-reference.js';
export { AuditSequencer, type SequencerOptions, type SequencerLogger } from './sequencer.js';
export { MerkleLogStore, type TreeHead } from './log-store.js';
export { jwkTreeHeadSigner, jwksTreeHeadVerifier, TREE_HEAD_TYP, type TreeHeadSigner, type TreeHeadVerifier } from './tree-head.js';
export {
  verifyProofBundle,
  INCLUSION_FORMAT,
  CONSISTENCY_FORMAT,
  type InclusionBundle,
  type ConsistencyBundle,
  type ProofBundle,
  type ProofVerdict,
  type SignedHeadJson,
} from './proof.js';
export { eventLeafHash } from './hash.js';
export * as merkle from './merkle.js';
