/** Encryption at rest (compact JWE, dir + A256GCM) under key-encryption keys from the environment. */
import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import { createSealer, SealerError } from '../../src/server/secrets/sealer.js';

const kek = () => randomBytes(32).toString('base64url');
const KEK_A = kek();
const KEK_B = kek();

/** Flips one character of a compact JWE part, keeping it valid base64url. */
function tamper(sealed: string, part: number): string {
  const parts = sealed.split('.');
  const target = parts[part]!;
  const index = Math.floor(target.length / 2);
  parts[part] = target.slice(0, index) + (target[index] === 'A' ? 'B' : 'A') + target.slice(index + 1);
  return parts.join('.');
}

describe('createSealer', () => {
  it('round-trips text, including empty and non-ASCII text', async () => {
    const sealer = createSealer([KEK_A]);
    for (const plaintext of ['client-secret', '', '{"kty":"EC","d":"…"}', 'пароль 🔑']) {
      const sealed = await sealer.seal(plaintext);
      expect(sealed).not.toContain(plaintext || '\u0000');
      expect(await sealer.open(sealed)).toBe(plaintext);
    }
  });

  it('produces a compact JWE (dir, A256GCM) naming its KEK, different every time', async () => {
    const sealer = createSealer([KEK_A]);
    const first = await sealer.seal('same');
    const second = await sealer.seal('same');
    expect(first.split('.')).toHaveLength(5);
    expect(first).not.toBe(second);
    const header = decodeProtectedHeader(first);
    expect(header).toMatchObject({ alg: 'dir', enc: 'A256GCM' });
    expect(typeof header.kid).toBe('string');
    expect(decodeProtectedHeader(second).kid).toBe(header.kid);
  });

  it.each([
    ['the ciphertext', 3],
    ['the authentication tag', 4],
    ['the IV', 2],
  ])('detects tampering with %s', async (_label, part) => {
    const sealer = createSealer([KEK_A]);
    const sealed = await sealer.seal('do not change me');
    await expect(sealer.open(tamper(sealed, part))).rejects.toThrow();
  });

  it('refuses a value sealed under an unknown KEK, naming the problem', async () => {
    const sealed = await createSealer([KEK_A]).seal('secret');
    await expect(createSealer([KEK_B]).open(sealed)).rejects.toThrow(SealerError);
    await expect(createSealer([KEK_B]).open(sealed)).rejects.toThrow(/unknown key-encryption key/);
  });

  it('refuses something that is not a JWE', async () => {
    await expect(createSealer([KEK_A]).open('plain-text-secret')).rejects.toThrow(SealerError);
  });

  it('with two KEKs: opens both, seals with the first, and flags values under the second for rewrap', async () => {
    const old = createSealer([KEK_A]);
    const rotated = createSealer([KEK_B, KEK_A]);
    const underOld = await old.seal('rotate me');
    expect(old.needsRewrap(underOld)).toBe(false);
    expect(rotated.needsRewrap(underOld)).toBe(true);
    expect(await rotated.open(underOld)).toBe('rotate me');

    const rewrapped = await rotated.seal(await rotated.open(underOld));
    expect(rotated.needsRewrap(rewrapped)).toBe(false);
    expect(await rotated.open(rewrapped)).toBe('rotate me');
    // Once the old KEK is dropped, only rewrapped values still open.
    const newOnly = createSealer([KEK_B]);
    expect(await newOnly.open(rewrapped)).toBe('rotate me');
    await expect(newOnly.open(underOld)).rejects.toThrow(SealerError);
  });

  it('flags an unreadable value for rewrap rather than throwing', () => {
    expect(createSealer([KEK_A]).needsRewrap('garbage')).toBe(true);
  });

  it('refuses to be created without a KEK or with a KEK that is not 32 bytes', () => {
    expect(() => createSealer([])).toThrow(SealerError);
    expect(() => createSealer([randomBytes(16).toString('base64url')])).toThrow(/32 bytes/);
  });
});
