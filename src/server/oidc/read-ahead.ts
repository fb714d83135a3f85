/**
 * Per-request read-ahead for oidc-provider's adapter. Reading an access
 * token, oidc-provider next reads the session it is bound to (by uid) and
 * then its grant: three statements, each waiting for the one before. The
 * adapter reads all three in one statement (see adapter.ts) and keeps the two
 * it was not asked for here, for this request only, where the provider's
 * next reads find them. Anything the adapter writes during the request drops
 * what was kept, so a read after a write goes to the database.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AdapterPayload } from 'oidc-provider';

type Kept = Map<string, AdapterPayload | undefined>;

const requestScope = new AsyncLocalStorage<Kept>();

/** Runs `work` with a read-ahead scope of its own (one per HTTP request). */
export function withReadAhead<T>(work: () => Promise<T>): Promise<T> {
  return requestScope.run(new Map(), work);
}

export const readAheadKey = (model: string, column: 'id' | 'uid', value: string) => `${model}\u0000${column}\u0000${value}`;

/** True when a read-ahead scope is active (only then is reading ahead worth it). */
export function readingAhead(): boolean {
  return requestScope.getStore() !== undefined;
}

/** Keeps a row read ahead (undefined: read, and absent) for this request. */
export function keep(key: string, payload: AdapterPayload | undefined): void {
  requestScope.getStore()?.set(key, payload);
}

/** A row read ahead in this request, once: `found` is false when there is none to take. */
export function take(key: string): { found: boolean; payload?: AdapterPayload } {
  const kept = requestScope.getStore();
  if (!kept?.has(key)) return { found: false };
  const payload = kept.get(key);
  kept.delete(key);
  return { found: true, payload };
}

/** Drops every row read ahead in this request (the adapter wrote something). */
export function forgetReadAhead(): void {
  requestScope.getStore()?.clear();
}
