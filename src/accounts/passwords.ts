/** Password hashing with bcrypt; comparisons are constant-time inside bcrypt. */
import bcrypt from 'bcrypt';

/** bcrypt reads at most 72 bytes; longer input would be silently truncated, so refuse it. */
export const MAX_PASSWORD_BYTES = 72;
export const MIN_PASSWORD_LENGTH = 10;

export class PasswordPolicyError extends Error {
  override name = 'PasswordPolicyError';
}

/** Checks a new password; returns nothing or throws with a message for the user. */
export function assertAcceptablePassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new PasswordPolicyError(`password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES)
    throw new PasswordPolicyError(`password must be at most ${MAX_PASSWORD_BYTES} bytes`);
}

export async function hashPassword(password: string, cost: number): Promise<string> {
  assertAcceptablePassword(password);
  return bcrypt.hash(password, cost);
}

const dummyHashes = new Map<number, Promise<string>>();

/**
 * Verifies a password. With no hash (unknown user, no password set) it still
 * spends one bcrypt comparison so the answer takes as long as for a known user.
 */
export async function verifyPassword(password: string, hash: string | null | undefined, cost: number): Promise<boolean> {
  const candidate = Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES ? password.slice(0, MAX_PASSWORD_BYTES) : password;
  if (!hash) {
    if (!dummyHashes.has(cost)) dummyHashes.set(cost, bcrypt.hash('behalf-timing-equaliser', cost));
    await bcrypt.compare(candidate, await dummyHashes.get(cost)!);
    return false;
  }
  return bcrypt.compare(candidate, hash);
}
