/**
 * The Status List itself (draft-ietf-oauth-status-list-21 §4): one bit per
 * token (`bits` 1: 0 VALID, 1 INVALID, §7), packed from the least significant
 * bit of each byte (§4.1 step 3), compressed with DEFLATE in the ZLIB format
 * at the highest level (§4.1 step 4) and base64url-encoded into `lst` (§4.2).
 */
import { deflateSync, constants } from 'node:zlib';

/** Entries per list: 2^20 tokens, 128 KiB before compression. */
export const LIST_SIZE = 1 << 20;
export const BITS = 1;

/** The list a token's global index falls in, and its index there (the `idx` of its `status_list` claim). */
export function listPosition(globalIndex: number): { listId: number; idx: number } {
  return { listId: Math.floor(globalIndex / LIST_SIZE), idx: globalIndex % LIST_SIZE };
}

/** The uncompressed byte array with the given indexes set to INVALID (1). */
export function statusBytes(invalid: Iterable<number>, size = LIST_SIZE): Uint8Array {
  const bytes = new Uint8Array(Math.ceil((size * BITS) / 8));
  for (const index of invalid) {
    if (!Number.isInteger(index) || index < 0 || index >= size) throw new RangeError(`status index ${index} is outside the list`);
    bytes[index >> 3]! |= 1 << (index & 7);
  }
  return bytes;
}

/** `lst`: base64url(ZLIB(DEFLATE(bytes))) at the highest compression level. */
export function encodeLst(bytes: Uint8Array): string {
  return deflateSync(bytes, { level: constants.Z_BEST_COMPRESSION }).toString('base64url');
}
