/**
 * The Status List encoding against draft-ietf-oauth-status-list-21 §4.1's own
 * examples: bit order (least significant bit first), ZLIB/DEFLATE, base64url,
 * on Behalf's side (list-encoding.ts) and the kit's (status-list.ts).
 */
import { inflateSync } from 'node:zlib';
import { decodeLst, statusAt } from '../../src/resource-server/status-list.js';
import { LIST_SIZE, encodeLst, listPosition, statusBytes } from '../../src/server/token-status/list-encoding.js';

/** §4.1, bits = 1: status[0..15] = 1 0 0 1 1 1 0 1 1 1 0 0 0 1 0 1. */
const ONE_BIT = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
/** §4.1, bits = 2: status[0..11]. */
const TWO_BITS = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3];

const invalid = (statuses: number[]) => statuses.flatMap((status, index) => (status ? [index] : []));

describe('the byte array (§4.1)', () => {
  it('packs each status from the least significant bit: the draft’s 0xB9 0xA3', () => {
    expect([...statusBytes(invalid(ONE_BIT), 16)]).toEqual([0xb9, 0xa3]);
  });

  it('compresses with ZLIB to exactly the draft’s vector (78dadbb918000217015d, lst "eNrbuRgAAhcBXQ")', () => {
    const lst = encodeLst(statusBytes(invalid(ONE_BIT), 16));
    expect(lst).toBe('eNrbuRgAAhcBXQ');
    expect(Buffer.from(lst, 'base64url').toString('hex')).toBe('78dadbb918000217015d');
  });

  it('refuses an index outside the list', () => {
    expect(() => statusBytes([16], 16)).toThrow(RangeError);
    expect(() => statusBytes([-1], 16)).toThrow(RangeError);
  });

  it('places a token by its global index: list idx / 2^20, index idx % 2^20', () => {
    expect(listPosition(0)).toEqual({ listId: 0, idx: 0 });
    expect(listPosition(LIST_SIZE - 1)).toEqual({ listId: 0, idx: LIST_SIZE - 1 });
    expect(listPosition(LIST_SIZE + 7)).toEqual({ listId: 1, idx: 7 });
  });

  it('keeps a full list small while it is sparse: 2^20 entries, 1 % revoked', () => {
    const revoked = Array.from({ length: LIST_SIZE / 100 }, (_, i) => i * 100 + (i % 97));
    const lst = encodeLst(statusBytes(revoked));
    expect(inflateSync(Buffer.from(lst, 'base64url')).length).toBe(LIST_SIZE / 8);
    expect(Buffer.from(lst, 'base64url').length).toBeLessThan(LIST_SIZE / 8);
  });
});

describe('the kit reads it back', () => {
  it('decodes the draft’s 1-bit list', () => {
    const bytes = decodeLst('eNrbuRgAAhcBXQ');
    expect(ONE_BIT.map((_, index) => statusAt(bytes, 1, index))).toEqual(ONE_BIT);
  });

  it('decodes the draft’s 2-bit list (78da3be9f2130003df0207: 0xC9 0x44 0xF9)', () => {
    const bytes = decodeLst(Buffer.from('78da3be9f2130003df0207', 'hex').toString('base64url'));
    expect([...bytes]).toEqual([0xc9, 0x44, 0xf9]);
    expect(TWO_BITS.map((_, index) => statusAt(bytes, 2, index))).toEqual(TWO_BITS);
  });

  it('round-trips what Behalf encodes, and says nothing for an index past the end (§8.3: refuse)', () => {
    const revoked = [0, 9, 1000, LIST_SIZE - 1];
    const bytes = decodeLst(encodeLst(statusBytes(revoked)));
    for (const index of [0, 1, 8, 9, 10, 999, 1000, 1001, LIST_SIZE - 2, LIST_SIZE - 1])
      expect(statusAt(bytes, 1, index)).toBe(revoked.includes(index) ? 1 : 0);
    expect(statusAt(bytes, 1, LIST_SIZE)).toBeUndefined();
  });

  it('refuses what is not base64url or not ZLIB', () => {
    expect(() => decodeLst('not base64url!')).toThrow();
    expect(() => decodeLst(Buffer.from('plain text').toString('base64url'))).toThrow();
  });
});
