/**
 * Pure permission decisions for the embedded PostgreSQL run as root, where
 * initdb and postgres run as the `postgres` system user: can that user reach a
 * path, and may root trust a folder it will import code from? Both take the
 * stat facts of each path component, from `/` down (embedded-layout.ts gathers them).
 */

export interface PathFacts {
  path: string;
  /** st_mode; only the permission bits are read. */
  mode: number;
  uid: number;
  gid: number;
}

/**
 * Whom to check for. `uid` undefined: the user does not exist yet (created at
 * the first initialise), so it owns nothing and is in no group: the "other" bits apply.
 * Only the primary group counts: node's spawn with uid/gid drops supplementary groups.
 */
export interface Who {
  uid?: number;
  gid?: number;
}

export const READ = 0o4;
export const WRITE = 0o2;
export const EXECUTE = 0o1;

/** The rwx bits (0–7) that apply to `who` on one path: owner's, else group's, else other's (never a mix, as in the kernel). */
export function permissionsFor(facts: PathFacts, who: Who): number {
  if (who.uid === 0) return READ | WRITE | EXECUTE;
  if (who.uid !== undefined && facts.uid === who.uid) return (facts.mode >> 6) & 0o7;
  if (who.gid !== undefined && facts.gid === who.gid) return (facts.mode >> 3) & 0o7;
  return facts.mode & 0o7;
}

/**
 * The first component `who` cannot get through, or undefined when the whole
 * chain is reachable: every component but the last needs search (x), the last
 * needs `lastNeeds` (search for a folder, execute for a binary).
 */
export function firstBlocked(chain: PathFacts[], who: Who, lastNeeds = EXECUTE): PathFacts | undefined {
  return chain.find((facts, index) => {
    const needs = index === chain.length - 1 ? lastNeeds : EXECUTE;
    return (permissionsFor(facts, who) & needs) !== needs;
  });
}

/**
 * The first component root must not trust to hold code it imports: not owned
 * by root, or writable by group or others (who could then swap what root runs).
 */
export function firstUntrusted(chain: PathFacts[]): PathFacts | undefined {
  return chain.find((facts) => facts.uid !== 0 || (facts.mode & 0o022) !== 0);
}
