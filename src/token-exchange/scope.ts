/** Scope for an exchanged token: within what is allowed, never wider (RFC 8693 §2.1, RFC 6749 §3.3). */
import { invalidScope } from './errors.js';

export function decideScope(requested: string[] | undefined, allowed: readonly string[]): string[] {
  // A token that may do nothing is no token: say so rather than issue one with an empty scope
  // (e.g. a resource server none of whose scopes the client's policy allows).
  if (allowed.length === 0 && !requested)
    throw invalidScope('no scope may be granted for this resource server under this client’s policy', 'no_scope');
  if (!requested) return [...allowed];
  const allowedSet = new Set(allowed);
  const beyond = requested.filter((scope) => !allowedSet.has(scope));
  if (beyond.length)
    throw invalidScope(
      `scope ${beyond.join(' ')} is beyond what may be granted here (${allowed.join(' ') || 'nothing'})`,
      'scope_escalation',
    );
  if (requested.length === 0) throw invalidScope('scope must not be empty', 'empty_scope');
  return requested;
}

export function intersect(a: readonly string[], b: readonly string[]): string[] {
  const set = new Set(b);
  return a.filter((item) => set.has(item));
}
