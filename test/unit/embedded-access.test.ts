/**
 * Who can reach the embedded cluster's files when Behalf runs as root (initdb
 * and postgres then run as the `postgres` user), on synthetic stat chains;
 * which folders root may import code from; and what gets relocated.
 */
import { firstBlocked, firstUntrusted, permissionsFor, READ, EXECUTE, type PathFacts } from '../../src/server/db/embedded-access.js';
import { chooseLayout, EmbeddedLayoutError, type LayoutFacts } from '../../src/server/db/embedded-layout.js';

const ROOT = 0;
const ALICE = 1000;
const POSTGRES = { uid: 101, gid: 104 };
const NOT_YET_CREATED = {};

/** `/`, `/home`, `/home/alice` (mode `aliceMode`, owner and group given), `/home/alice/behalf`. */
function chain(aliceMode: number, owner = ALICE, group = ALICE): PathFacts[] {
  return [
    { path: '/', mode: 0o40755, uid: ROOT, gid: ROOT },
    { path: '/home', mode: 0o40755, uid: ROOT, gid: ROOT },
    { path: '/home/alice', mode: 0o40000 | aliceMode, uid: owner, gid: group },
    { path: '/home/alice/behalf', mode: 0o40755, uid: owner, gid: group },
  ];
}

describe('reachability for the postgres user', () => {
  it('is blocked by a 700 folder it does not own', () => {
    expect(firstBlocked(chain(0o700), POSTGRES)?.path).toBe('/home/alice');
  });

  it('passes a 711 folder (traverse without listing)', () => {
    expect(firstBlocked(chain(0o711), POSTGRES)).toBeUndefined();
  });

  it('passes a 700 folder it owns', () => {
    expect(firstBlocked(chain(0o700, POSTGRES.uid), POSTGRES)).toBeUndefined();
  });

  it('passes a 710 folder of its group, and not one of another group', () => {
    expect(firstBlocked(chain(0o710, ALICE, POSTGRES.gid), POSTGRES)).toBeUndefined();
    expect(firstBlocked(chain(0o710), POSTGRES)?.path).toBe('/home/alice');
  });

  it('applies only the owner bits to the owner, as the kernel does (a 070 folder it owns blocks it)', () => {
    expect(firstBlocked(chain(0o077, POSTGRES.uid, POSTGRES.gid), POSTGRES)?.path).toBe('/home/alice');
  });

  it('judges a user not created yet by the "other" bits', () => {
    expect(firstBlocked(chain(0o750), NOT_YET_CREATED)?.path).toBe('/home/alice');
    expect(firstBlocked(chain(0o701), NOT_YET_CREATED)).toBeUndefined();
  });

  it('asks of the last component what it is for: execute for a binary, read when asked', () => {
    const binary: PathFacts = { path: '/home/alice/behalf/postgres', mode: 0o100700, uid: ALICE, gid: ALICE };
    expect(firstBlocked([...chain(0o711), binary], POSTGRES)?.path).toBe(binary.path);
    expect(firstBlocked([...chain(0o711), { ...binary, mode: 0o100711 }], POSTGRES)).toBeUndefined();
    expect(firstBlocked([...chain(0o711), { ...binary, mode: 0o100711 }], POSTGRES, READ | EXECUTE)?.path).toBe(binary.path);
  });

  it('lets root through anything', () => {
    expect(permissionsFor({ path: '/x', mode: 0o40000, uid: ALICE, gid: ALICE }, { uid: 0, gid: 0 })).toBe(0o7);
  });
});

describe('folders root may import code from', () => {
  const system = (mode: number, uid = ROOT): PathFacts[] => [
    { path: '/', mode: 0o40755, uid: ROOT, gid: ROOT },
    { path: '/var', mode: 0o40755, uid: ROOT, gid: ROOT },
    { path: '/var/lib', mode: 0o40755, uid: ROOT, gid: ROOT },
    { path: '/var/lib/behalf', mode: 0o40000 | mode, uid, gid: ROOT },
  ];

  it('trusts a chain owned by root that only root can write', () => {
    expect(firstUntrusted(system(0o755))).toBeUndefined();
  });

  it('refuses a folder writable by group or others, or owned by another user', () => {
    expect(firstUntrusted(system(0o775))?.path).toBe('/var/lib/behalf');
    expect(firstUntrusted(system(0o757))?.path).toBe('/var/lib/behalf');
    expect(firstUntrusted(system(0o755, ALICE))?.path).toBe('/var/lib/behalf');
  });

  it('refuses anything under /tmp (world-writable, sticky or not)', () => {
    expect(
      firstUntrusted([
        { path: '/', mode: 0o40755, uid: ROOT, gid: ROOT },
        { path: '/tmp', mode: 0o41777, uid: ROOT, gid: ROOT },
      ])?.path,
    ).toBe('/tmp');
  });
});

describe('what gets relocated', () => {
  const reachable: LayoutFacts = { asRoot: true, projectClusterExists: false, relocatedClusterExists: false };
  const choose = (facts: Partial<LayoutFacts>) => chooseLayout({ ...reachable, ...facts }, '/home/alice/behalf/.data/postgres/cluster');

  it('keeps everything in the project when not root, or when the postgres user reaches it', () => {
    expect(choose({ asRoot: false, dataBlockedAt: '/home/alice', binariesBlockedAt: '/home/alice' })).toEqual({
      data: 'project',
      binaries: 'project',
    });
    expect(choose({})).toEqual({ data: 'project', binaries: 'project' });
  });

  it('relocates the binaries and the data independently, each only when blocked', () => {
    expect(choose({ binariesBlockedAt: '/home/alice' })).toEqual({ data: 'project', binaries: 'relocated' });
    expect(choose({ dataBlockedAt: '/home/alice' })).toEqual({ data: 'relocated', binaries: 'project' });
  });

  it('keeps using a relocated cluster after the project became reachable', () => {
    expect(choose({ relocatedClusterExists: true })).toEqual({ data: 'relocated', binaries: 'project' });
  });

  it('refuses, with what to do, an existing project cluster the postgres user cannot reach (rather than start an empty one elsewhere)', () => {
    expect(() => choose({ projectClusterExists: true, dataBlockedAt: '/home/alice' })).toThrow(EmbeddedLayoutError);
    expect(() => choose({ projectClusterExists: true, dataBlockedAt: '/home/alice' })).toThrow(
      /cannot traverse \/home\/alice.*set DATABASE_URL/,
    );
  });
});
