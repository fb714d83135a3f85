/**
 * RFC 8693 §2.1 `resource` and `audience`: together they must name exactly
 * one known resource server (by its URI, or a configured logical name).
 */
import { invalidTarget } from './errors.js';

export interface TargetLookup<T> {
  /** A resource server by resource URI or by logical audience name. */
  find(value: string): T | undefined;
  identifier(target: T): string;
}

export function resolveTarget<T>(resources: string[], audiences: string[], lookup: TargetLookup<T>, fallback: T | undefined): T {
  const found = new Map<string, T>();
  for (const value of [...resources, ...audiences]) {
    const target = lookup.find(value);
    if (!target) throw invalidTarget(`unknown resource or audience ${JSON.stringify(value).slice(0, 200)}`, 'unknown_resource'); // not 'unknown_target': that names an unknown account in the trail
    found.set(lookup.identifier(target), target);
  }
  if (found.size > 1)
    throw invalidTarget(
      `resource and audience must name one resource server; they name ${[...found.keys()].join(' and ')}`,
      'ambiguous_target',
    );
  const [target] = found.values();
  if (target) return target;
  if (fallback) return fallback;
  throw invalidTarget('name the resource server with resource or audience (this client has no default)', 'no_target');
}
