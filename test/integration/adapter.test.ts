/**
 * The PostgreSQL adapter for oidc-provider models, directly against a real,
 * migrated test database: the contract oidc-provider relies on.
 */
import { randomUUID } from 'node:crypto';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/server/db/data-source.js';
import { createAdapterFactory, deleteExpiredPayloads } from '../../src/server/oidc/adapter.js';
import { withReadAhead } from '../../src/server/oidc/read-ahead.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { eventually } from '../support/poll.js';

let database: TestDatabase;
let dataSource: DataSource;
let adapterFor: (model: string) => Adapter;

beforeAll(async () => {
  database = await createTestDatabase();
  dataSource = createDataSource({ url: database.url, poolSize: 2 });
  await dataSource.initialize();
  adapterFor = createAdapterFactory(dataSource);
});
afterAll(async () => {
  if (dataSource?.isInitialized) await dataSource.destroy();
  await database?.drop();
});

const id = () => randomUUID().replace(/-/g, '');

function payload(extra: Partial<AdapterPayload> = {}): AdapterPayload {
  const now = Math.floor(Date.now() / 1000);
  return { iat: now, exp: now + 600, jti: id(), kind: 'AccessToken', clientId: 'portal', ...extra };
}

async function rowCount(where: string, params: unknown[]): Promise<number> {
  const [row] = (await dataSource.query(`SELECT count(*)::int AS n FROM oidc_payload WHERE ${where}`, params)) as { n: number }[];
  return row!.n;
}

describe('upsert and find', () => {
  it('stores a payload and finds it by model and id', async () => {
    const adapter = adapterFor('AccessToken');
    const key = id();
    const stored = payload({ accountId: 'a1', scope: 'openid', extra: { nested: { deep: [1, 2] } } });
    await adapter.upsert(key, stored, 600);
    expect(await adapter.find(key)).toEqual(stored);
    // The same id under another model is a different row.
    expect(await adapterFor('RefreshToken').find(key)).toBeUndefined();
    expect(await adapter.find(id())).toBeUndefined();
  });

  it('replaces the payload, the indexed columns and the expiry on a second upsert', async () => {
    const adapter = adapterFor('AccessToken');
    const key = id();
    await adapter.upsert(key, payload({ grantId: 'g-before', scope: 'a' }), 600);
    await adapter.upsert(key, payload({ grantId: 'g-after', scope: 'b' }));
    expect(await adapter.find(key)).toMatchObject({ grantId: 'g-after', scope: 'b' });
    const [row] = (await dataSource.query(`SELECT grant_id, expires_at FROM oidc_payload WHERE model = 'AccessToken' AND id = $1`, [
      key,
    ])) as { grant_id: string; expires_at: Date | null }[];
    expect(row).toEqual({ grant_id: 'g-after', expires_at: null });
  });

  it('keeps a payload without expiresIn until it is destroyed', async () => {
    const adapter = adapterFor('Grant');
    const key = id();
    await adapter.upsert(key, payload({ kind: 'Grant' }), undefined);
    expect(await adapter.find(key)).toBeDefined();
    expect(await rowCount('id = $1 AND expires_at IS NULL', [key])).toBe(1);
  });

  it('stops finding a payload once it has expired', async () => {
    const adapter = adapterFor('AuthorizationCode');
    const key = id();
    await adapter.upsert(key, payload({ kind: 'AuthorizationCode' }), 1);
    expect(await adapter.find(key)).toBeDefined();
    await eventually(async () => (await adapter.find(key)) === undefined, { timeoutMs: 5000, what: 'expiry' });
    // Invisible, but still there until the cleanup job runs.
    expect(await rowCount('id = $1', [key])).toBe(1);
  });

  it('treats an expiresIn that has already elapsed as expired, not as "never expires"', async () => {
    // oidc-provider passes `exp - now` when it re-saves a token, which can be zero or negative.
    const adapter = adapterFor('AccessToken');
    const key = id();
    await adapter.upsert(key, payload(), -5);
    expect(await adapter.find(key)).toBeUndefined();
    expect(await rowCount('id = $1 AND expires_at IS NOT NULL', [key])).toBe(1);
  });

  it('answers "not found" for ids PostgreSQL cannot store (NUL), instead of failing', async () => {
    const adapter = adapterFor('AccessToken');
    await expect(adapter.find('abc\u0000def')).resolves.toBeUndefined();
    await expect(adapter.findByUid('abc\u0000')).resolves.toBeUndefined();
    await expect(adapter.findByUserCode('\u0000')).resolves.toBeUndefined();
    await expect(adapter.consume('\u0000')).resolves.toBeUndefined();
    await expect(adapter.destroy('\u0000')).resolves.toBeUndefined();
    await expect(adapter.revokeByGrantId('\u0000')).resolves.toBeUndefined();
  });
});

describe('consume', () => {
  it('marks the payload consumed: later finds return it with `consumed` set', async () => {
    const adapter = adapterFor('AuthorizationCode');
    const key = id();
    await adapter.upsert(key, payload({ kind: 'AuthorizationCode' }), 60);
    expect((await adapter.find(key))!.consumed).toBeUndefined();
    const before = Math.floor(Date.now() / 1000);
    await adapter.consume(key);
    const found = await adapter.find(key);
    expect(typeof found!.consumed).toBe('number');
    expect(found!.consumed).toBeGreaterThanOrEqual(before - 1);
    expect(found!.consumed).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 1);
  });

  it('keeps the first consumption time when consumed twice', async () => {
    const adapter = adapterFor('RefreshToken');
    const key = id();
    await adapter.upsert(key, payload({ kind: 'RefreshToken' }), 60);
    await adapter.consume(key);
    const [first] = (await dataSource.query(`SELECT consumed_at FROM oidc_payload WHERE id = $1`, [key])) as { consumed_at: Date }[];
    await adapter.consume(key);
    const [second] = (await dataSource.query(`SELECT consumed_at FROM oidc_payload WHERE id = $1`, [key])) as { consumed_at: Date }[];
    expect(second!.consumed_at.getTime()).toBe(first!.consumed_at.getTime());
  });
});

describe('look-ups by uid and user code', () => {
  it('finds a session by its uid', async () => {
    const adapter = adapterFor('Session');
    const key = id();
    const uid = id();
    await adapter.upsert(key, payload({ kind: 'Session', uid, accountId: 'acc' }), 600);
    expect(await adapter.findByUid(uid)).toMatchObject({ uid, accountId: 'acc' });
    expect(await adapter.findByUid(id())).toBeUndefined();
    // uid look-ups stay within the model.
    expect(await adapterFor('Interaction').findByUid(uid)).toBeUndefined();
  });

  it('finds a device code by its user code', async () => {
    const adapter = adapterFor('DeviceCode');
    const key = id();
    await adapter.upsert(key, payload({ kind: 'DeviceCode', userCode: 'WDJB-MJHT' }), 600);
    expect(await adapter.findByUserCode('WDJB-MJHT')).toMatchObject({ jti: expect.any(String), userCode: 'WDJB-MJHT' });
    expect(await adapter.findByUserCode('XXXX-XXXX')).toBeUndefined();
  });

  it('does not find expired rows by uid or user code', async () => {
    const session = adapterFor('Session');
    const device = adapterFor('DeviceCode');
    const uid = id();
    await session.upsert(id(), payload({ kind: 'Session', uid }), -1);
    await device.upsert(id(), payload({ kind: 'DeviceCode', userCode: 'EXPD-CODE' }), -1);
    expect(await session.findByUid(uid)).toBeUndefined();
    expect(await device.findByUserCode('EXPD-CODE')).toBeUndefined();
  });
});

describe('destroy', () => {
  it('removes one row and leaves the others', async () => {
    const adapter = adapterFor('AccessToken');
    const gone = id();
    const kept = id();
    await adapter.upsert(gone, payload(), 600);
    await adapter.upsert(kept, payload(), 600);
    await adapterFor('RefreshToken').upsert(gone, payload({ kind: 'RefreshToken' }), 600);
    await adapter.destroy(gone);
    expect(await adapter.find(gone)).toBeUndefined();
    expect(await adapter.find(kept)).toBeDefined();
    expect(await adapterFor('RefreshToken').find(gone)).toBeDefined();
  });
});

describe('revokeByGrantId', () => {
  it('removes every token of the grant, in every token model, and nothing else', async () => {
    const grant = `grant-${id()}`;
    const otherGrant = `grant-${id()}`;
    const ofGrant = [
      ['AccessToken', id()],
      ['AccessToken', id()],
      ['RefreshToken', id()],
      ['AuthorizationCode', id()],
      ['DeviceCode', id()],
    ] as const;
    for (const [model, key] of ofGrant) await adapterFor(model).upsert(key, payload({ kind: model, grantId: grant }), 600);
    const otherKeys = [id(), id()];
    await adapterFor('AccessToken').upsert(otherKeys[0]!, payload({ grantId: otherGrant }), 600);
    await adapterFor('RefreshToken').upsert(otherKeys[1]!, payload({ kind: 'RefreshToken', grantId: otherGrant }), 600);
    const noGrant = id();
    await adapterFor('ClientCredentials').upsert(noGrant, payload({ kind: 'ClientCredentials' }), 600);
    // The grant itself and an interaction that names it are not tokens of the grant.
    await adapterFor('Grant').upsert(grant, payload({ kind: 'Grant', jti: grant, accountId: 'acc' }), 600);
    const interaction = id();
    await adapterFor('Interaction').upsert(interaction, payload({ kind: 'Interaction', grantId: grant }), 600);

    expect(await rowCount('grant_id = $1', [grant])).toBe(ofGrant.length + 1);
    await adapterFor('AccessToken').revokeByGrantId(grant);

    for (const [model, key] of ofGrant) expect(await adapterFor(model).find(key)).toBeUndefined();
    expect(await adapterFor('AccessToken').find(otherKeys[0]!)).toBeDefined();
    expect(await adapterFor('RefreshToken').find(otherKeys[1]!)).toBeDefined();
    expect(await adapterFor('ClientCredentials').find(noGrant)).toBeDefined();
    expect(await adapterFor('Grant').find(grant)).toBeDefined();
    expect(await adapterFor('Interaction').find(interaction)).toBeDefined();
  });
});

describe('deleteExpiredPayloads', () => {
  it('deletes expired rows only and returns how many, across batches', async () => {
    // Start from a table with no expired rows, whatever earlier tests left.
    await deleteExpiredPayloads(dataSource);
    const expired = Array.from({ length: 7 }, () => id());
    const live = [id(), id()];
    const forever = id();
    for (const key of expired) await adapterFor('AccessToken').upsert(key, payload(), -10);
    for (const key of live) await adapterFor('AccessToken').upsert(key, payload(), 600);
    await adapterFor('Grant').upsert(forever, payload({ kind: 'Grant' }));

    expect(await deleteExpiredPayloads(dataSource, 3)).toBe(expired.length);
    expect(await rowCount('id = ANY($1)', [expired])).toBe(0);
    expect(await rowCount('id = ANY($1)', [[...live, forever]])).toBe(3);
    expect(await deleteExpiredPayloads(dataSource)).toBe(0);
  });
});

describe('reading ahead within a request', () => {
  // An access token bound to a session, under a grant: what oidc-provider reads one after the other.
  async function tokenWithSessionAndGrant() {
    const ids = { token: id(), session: id(), sessionUid: id(), grant: id() };
    await adapterFor('Session').upsert(ids.session, { uid: ids.sessionUid, accountId: 'a1', kind: 'Session' } as AdapterPayload, 600);
    await adapterFor('Grant').upsert(ids.grant, { accountId: 'a1', clientId: 'portal', kind: 'Grant' } as AdapterPayload, 600);
    await adapterFor('AccessToken').upsert(
      ids.token,
      payload({ jti: ids.token, sessionUid: ids.sessionUid, grantId: ids.grant, expiresWithSession: true }),
      600,
    );
    return ids;
  }
  const deleteRow = (model: string, rowId: string) =>
    dataSource.query(`DELETE FROM oidc_payload WHERE model = $1 AND id = $2`, [model, rowId]);

  it('answers the session and grant reads that follow a token read from the same statement', async () => {
    const ids = await tokenWithSessionAndGrant();
    await withReadAhead(async () => {
      expect(await adapterFor('AccessToken').find(ids.token)).toMatchObject({ jti: ids.token });
      // Gone from the database since the token was read: the reads that follow still see what that statement saw.
      await deleteRow('Session', ids.session);
      await deleteRow('Grant', ids.grant);
      expect(await adapterFor('Session').findByUid(ids.sessionUid)).toMatchObject({ uid: ids.sessionUid });
      expect(await adapterFor('Grant').find(ids.grant)).toMatchObject({ clientId: 'portal' });
      // Once only: a second read goes to the database.
      expect(await adapterFor('Grant').find(ids.grant)).toBeUndefined();
    });
    // Outside a request nothing is read ahead.
    expect(await adapterFor('Session').findByUid(ids.sessionUid)).toBeUndefined();
  });

  it('reads ahead a session or grant that is gone as gone', async () => {
    const ids = await tokenWithSessionAndGrant();
    const [session] = (await dataSource.query(`SELECT payload FROM oidc_payload WHERE model = 'Session' AND id = $1`, [ids.session])) as {
      payload: AdapterPayload;
    }[];
    await deleteRow('Session', ids.session);
    await dataSource.query(`UPDATE oidc_payload SET expires_at = now() - interval '1 second' WHERE model = 'Grant' AND id = $1`, [
      ids.grant,
    ]);
    await withReadAhead(async () => {
      expect(await adapterFor('AccessToken').find(ids.token)).toMatchObject({ jti: ids.token });
      // Back in the database since the token was read: the request still sees it gone, as that statement did.
      await dataSource.query(
        `INSERT INTO oidc_payload (model, id, payload, uid, expires_at) VALUES ('Session', $1, $2, $3, now() + interval '10 minutes')`,
        [ids.session, session!.payload, ids.sessionUid],
      );
      expect(await adapterFor('Session').findByUid(ids.sessionUid)).toBeUndefined();
      expect(await adapterFor('Grant').find(ids.grant)).toBeUndefined();
    });
    expect(await adapterFor('Session').findByUid(ids.sessionUid)).toMatchObject({ uid: ids.sessionUid });
  });

  it('forgets what it read ahead once the adapter writes', async () => {
    const ids = await tokenWithSessionAndGrant();
    await withReadAhead(async () => {
      await adapterFor('AccessToken').find(ids.token);
      await adapterFor('Grant').destroy(ids.grant);
      expect(await adapterFor('Grant').find(ids.grant)).toBeUndefined();
      await deleteRow('Session', ids.session);
      expect(await adapterFor('Session').findByUid(ids.sessionUid)).toBeUndefined();
    });
  });

  it('finds no token, and keeps nothing, for an unknown or expired token', async () => {
    const ids = await tokenWithSessionAndGrant();
    await dataSource.query(`UPDATE oidc_payload SET expires_at = now() - interval '1 second' WHERE model = 'AccessToken' AND id = $1`, [
      ids.token,
    ]);
    await withReadAhead(async () => {
      expect(await adapterFor('AccessToken').find(ids.token)).toBeUndefined();
      expect(await adapterFor('AccessToken').find(id())).toBeUndefined();
      await deleteRow('Grant', ids.grant);
      expect(await adapterFor('Grant').find(ids.grant)).toBeUndefined();
    });
  });
});
