/**
 * One use per DPoP proof (RFC 9449 §11.1) across instances: oidc-provider's
 * replay check finds, then saves. Two instances given the same proof at once
 * both find nothing; the PostgreSQL adapter lets only one save create the live
 * row and refuses the other as a replay. An expired record may be reused.
 */
import { randomUUID } from 'node:crypto';
import type { Adapter } from 'oidc-provider';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/server/db/data-source.js';
import { createAdapterFactory } from '../../src/server/oidc/adapter.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let dataSource: DataSource;
let instanceA: Adapter;
let instanceB: Adapter;

beforeAll(async () => {
  database = await createTestDatabase();
  dataSource = createDataSource({ url: database.url, poolSize: 2 });
  await dataSource.initialize();
  // Two instances: each its own adapter over the one database.
  instanceA = createAdapterFactory(dataSource)('ReplayDetection');
  instanceB = createAdapterFactory(dataSource)('ReplayDetection');
});
afterAll(async () => {
  if (dataSource?.isInitialized) await dataSource.destroy();
  await database?.drop();
});

const record = (jti: string) => ({ jti, iss: 'storefront-electronics', iat: Math.floor(Date.now() / 1000) });

it('lets only one of two instances that both found nothing record the same proof', async () => {
  const jti = randomUUID();
  // What ReplayDetection.unique does on each instance: find (nothing yet on either), then save.
  expect(await instanceA.find(jti)).toBeUndefined();
  expect(await instanceB.find(jti)).toBeUndefined();
  const saves = await Promise.allSettled([instanceA.upsert(jti, record(jti), 300), instanceB.upsert(jti, record(jti), 300)]);
  expect(saves.filter((save) => save.status === 'fulfilled')).toHaveLength(1);
  const refused = saves.find((save) => save.status === 'rejected') as PromiseRejectedResult;
  expect(refused.reason).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/replay detected/) });
});

it('reuses the row of a record that has expired', async () => {
  const jti = randomUUID();
  await instanceA.upsert(jti, record(jti), 0);
  await expect(instanceB.upsert(jti, record(jti), 300)).resolves.toBeUndefined();
  expect(await instanceA.find(jti)).toMatchObject({ jti });
});
