/** The principal of the request being served, reachable from anywhere in it (AsyncLocalStorage). */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from './principal.js';

const storage = new AsyncLocalStorage<Principal>();

/** Runs `work` with `principal` as the current one (the middleware does this for each request). */
export function runWithPrincipal<T>(principal: Principal, work: () => T): T {
  return storage.run(principal, work);
}

/** The current request's principal, if any. */
export function currentPrincipal(): Principal | undefined {
  return storage.getStore();
}
