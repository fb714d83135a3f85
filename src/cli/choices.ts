/**
 * The value lists that options offer as choices. The originals live in entity
 * modules, which load TypeORM; copied here so `--help` need not load it, and
 * checked at compile time against the entity types, so they cannot drift.
 */
import type { Permission, RoleName } from '../accounts/entities/index.js';
import type { SigningAlg } from '../server/keys/signing-key.entity.js';

/** `list`, when it holds every member of the union `T` (one left out is a compile error). */
function everyMemberOf<T extends string>() {
  return <const L extends readonly T[]>(
    list: L & ([Exclude<T, L[number]>] extends [never] ? unknown : { missing: Exclude<T, L[number]> }),
  ): L => list;
}

export const ROLES = everyMemberOf<RoleName>()(['customer', 'support', 'admin']);
export const PERMISSIONS = everyMemberOf<Permission>()(['security:loginOnBehalf']);
export const SIGNING_ALGS = everyMemberOf<SigningAlg>()(['ES256', 'RS256']);
