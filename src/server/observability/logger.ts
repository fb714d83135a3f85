/**
 * Structured JSON logs (winston). Every line written inside a request carries
 * its request id. Secrets never reach a line: known secret-bearing keys are
 * redacted whatever the caller passes.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import winston from 'winston';

export interface RequestContext {
  requestId: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

const SECRET_KEYS =
  /^(password|client_secret|secret|token|access_token|refresh_token|id_token|code|code_verifier|authorization|cookie|set-cookie|private.*|.*_token|assertion|otp|totp.*)$/i;

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, item]) => [
      key,
      SECRET_KEYS.test(key) ? '[redacted]' : redact(item, depth + 1),
    ]),
  );
}

const addContext = winston.format((info) => {
  const context = requestContext.getStore();
  if (context) info.requestId = context.requestId;
  for (const key of Object.keys(info)) {
    if (key !== 'level' && key !== 'message') info[key] = SECRET_KEYS.test(key) ? '[redacted]' : redact(info[key]);
  }
  return info;
});

export type Logger = winston.Logger;

export function createLogger(level: string, service = 'behalf'): Logger {
  return winston.createLogger({
    level: level === 'silent' ? 'error' : level,
    silent: level === 'silent',
    defaultMeta: { service },
    format: winston.format.combine(winston.format.timestamp(), addContext(), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}
