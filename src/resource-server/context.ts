/** The principal of the request being served, reachable from anywhere in it (AsyncLocalStorage). */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from './principal.js';

const storage = new AsyncLocalStorage<Principal>();

/**
 * Runs `work` with `principal` as the current one (requireAuth does this for
 * each request; use it for jobs that act for someone).
 *
 * @example
 * await runWithPrincipal(toPrincipal(claims), () => orders.save(order)); // stamped and audited as that principal
 */
export function runWithPrincipal<T>(principal: Principal, work: () => T): T {
  return storage.run(principal, work);
}

/**
 * The current request's principal, if any: reachable from services and
 * repositories without passing it down.
 *
 * @example
 * const principal = currentPrincipal();
 * if (principal?.onBehalf) logger.info('acting on behalf', { agent: principal.doer, customer: principal.subject });
 */
export function currentPrincipal(): Principal | undefined {
  return storage.getStore();
}
