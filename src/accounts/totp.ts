/**
 * TOTP (RFC 6238) through otplib, and recovery codes: the pieces of the
 * second factor that need no database. Defaults are the ones every
 * authenticator app understands (SHA-1, 6 digits, 30 s).
 */
import { createHash, randomInt } from 'node:crypto';
import { generateSecret, generateURI, verify } from 'otplib';

export const TOTP_ISSUER = 'Behalf';
export const RECOVERY_CODE_COUNT = 10;
/** One step either side absorbs clock drift between the server and the phone. */
const TOLERANCE_SECONDS = 30;

export interface TotpEnrolment {
  secret: string;
  uri: string;
}

export function newTotpSecret(label: string): TotpEnrolment {
  const secret = generateSecret();
  return { secret, uri: generateURI({ issuer: TOTP_ISSUER, label, secret }) };
}

export function looksLikeTotpCode(code: string): boolean {
  return /^\d{6}$/.test(code);
}

/**
 * The time step of a valid code, else undefined. Steps at or before
 * `afterStep` are refused: a code already used cannot be used again.
 */
export async function verifyTotp(secret: string, code: string, afterStep: number | null, now = new Date()): Promise<number | undefined> {
  if (!looksLikeTotpCode(code)) return undefined;
  const result = await verify({
    secret,
    token: code,
    epochTolerance: TOLERANCE_SECONDS,
    epoch: Math.floor(now.getTime() / 1000),
    ...(afterStep !== null ? { afterTimeStep: afterStep } : {}),
  });
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}

const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Ten characters from an unambiguous alphabet (~49 bits), shown as xxxxx-xxxxx. */
export function newRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    const chars = Array.from({ length: 10 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

/** Case, spaces and dashes do not matter when a code is typed back. */
export function normaliseRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, '');
}

/**
 * SHA-256 suffices (no bcrypt): the codes are random with ~49 bits each,
 * so a stolen hash cannot be reversed by guessing, and checking stays cheap.
 */
export function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(normaliseRecoveryCode(code)).digest('hex');
}
