/**
 * Turning failures into one line for the operator: known errors say what to
 * fix; anything else names itself, still without a stack trace.
 */

/** A mistake in how the CLI was used (unknown store, ambiguous account, conflicting options). */
export class CliError extends Error {
  override name = 'CliError';
}

/** Errors whose message is written for the operator, so it is printed as it is. */
const KNOWN_ERRORS = new Set([
  'CliError',
  'ConfigError',
  'DatabaseError',
  'ExternalCheckpointError',
  'ClientRegistrationError',
  'ClientChangeError',
  'ResourceServerChangeError',
  'InitialAccessTokenError',
  'AccountError',
  'KeyRotationError',
  'PasswordPolicyError',
  'ResourceServerError',
  'SealerError',
  'StartupError',
  'TotpError',
]);

export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return `unexpected failure: ${String(error)}`;
  if (KNOWN_ERRORS.has(error.name)) return error.message;
  // A unique-key race (two admins creating the same thing at once) reads better without SQL.
  if ((error as { code?: string }).code === '23505') return `already exists: ${(error as { detail?: string }).detail ?? error.message}`;
  return `unexpected error (${error.name}): ${error.message}`;
}

/** The command already told the operator what went wrong; exit with `code` and print nothing more. */
export class SilentExit extends Error {
  override name = 'SilentExit';
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
