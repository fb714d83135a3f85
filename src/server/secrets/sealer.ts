/**
 * Encryption at rest for private keys, client secrets and TOTP secrets:
 * compact JWE (dir + A256GCM, via jose) under a key-encryption key from the
 * environment. The header's kid names the KEK so several can decrypt while
 * the first encrypts (KEK rotation: `keys rewrap`).
 */
import { createHash } from 'node:crypto';
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';

export interface Sealer {
  seal(plaintext: string): Promise<string>;
  open(sealed: string): Promise<string>;
  /** True when `sealed` was made with a KEK other than the current one. */
  needsRewrap(sealed: string): boolean;
}

interface Kek {
  kid: string;
  key: Uint8Array;
}

function kekId(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 16);
}

export class SealerError extends Error {
  override name = 'SealerError';
}

export function createSealer(base64urlKeys: readonly string[]): Sealer {
  if (base64urlKeys.length === 0) throw new SealerError('no key-encryption key configured');
  const keks: Kek[] = base64urlKeys.map((encoded) => {
    const key = new Uint8Array(Buffer.from(encoded, 'base64url'));
    if (key.length !== 32) throw new SealerError('a key-encryption key must be 32 bytes');
    return { kid: kekId(key), key };
  });
  const current = keks[0]!;

  return {
    async seal(plaintext) {
      return new CompactEncrypt(new TextEncoder().encode(plaintext))
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: current.kid })
        .encrypt(current.key);
    },
    async open(sealed) {
      let kid: string | undefined;
      try {
        kid = decodeProtectedHeader(sealed).kid;
      } catch {
        throw new SealerError('sealed value is not a JWE');
      }
      const kek = keks.find((candidate) => candidate.kid === kid);
      if (!kek) throw new SealerError(`sealed with an unknown key-encryption key (${kid ?? 'no kid'}); is KEY_ENCRYPTION_KEYS complete?`);
      const { plaintext } = await compactDecrypt(sealed, kek.key, {
        contentEncryptionAlgorithms: ['A256GCM'],
        keyManagementAlgorithms: ['dir'],
      });
      return new TextDecoder().decode(plaintext);
    },
    needsRewrap(sealed) {
      try {
        return decodeProtectedHeader(sealed).kid !== current.kid;
      } catch {
        return true;
      }
    },
  };
}
