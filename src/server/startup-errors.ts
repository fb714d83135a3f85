/** One line for a failed start: known failures say what to fix, unknown ones name themselves. */
export function describeStartupFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const known = ['ConfigError', 'DatabaseError', 'StartupError', 'SealerError', 'ClientRegistrationError', 'KeyRotationError'];
  if (known.includes(error.name)) return error.message;
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
    return `port already in use (${(error as Error).message}); set PORT to another port`;
  if ((error as NodeJS.ErrnoException).code === 'EACCES') return `permission denied: ${error.message}`;
  return `start-up failed: ${error.name}: ${error.message}`;
}
