/** Side pools keep their session settings to themselves: Behalf's own connections never inherit them. */
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/server/db/data-source.js';
import { genericPlanQuery } from '../../src/server/db/prepared.js';
import { closeSidePools, sidePool } from '../../src/server/db/side-pools.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let dataSource: DataSource;

beforeAll(async () => {
  database = await createTestDatabase();
  dataSource = createDataSource({ url: database.url, poolSize: 2, applicationName: 'behalf-test' });
  await dataSource.initialize();
});
afterAll(async () => {
  await closeSidePools(dataSource);
  if (dataSource?.isInitialized) await dataSource.destroy();
  await database?.drop();
});

const setting = async (query: (sql: string) => Promise<{ value: string }[]>, name: string) =>
  (await query(`SELECT current_setting('${name}') AS value`))[0]!.value;

it('runs each side pool with its settings and its own application name, and Behalf’s pool with the defaults', async () => {
  const limiter = sidePool(dataSource, { purpose: 'ratelimit', settings: { synchronous_commit: 'off' }, max: 2 });
  expect(sidePool(dataSource, { purpose: 'ratelimit', settings: { synchronous_commit: 'off' }, max: 2 })).toBe(limiter);
  expect(await setting(async (sql) => (await limiter.query<{ value: string }>(sql)).rows, 'synchronous_commit')).toBe('off');
  expect(await setting(async (sql) => genericPlanQuery(dataSource, sql, []), 'plan_cache_mode')).toBe('force_generic_plan');
  expect((await limiter.query<{ name: string }>(`SELECT current_setting('application_name') AS name`)).rows[0]!.name).toBe(
    'behalf-test-ratelimit',
  );
  // Every connection of Behalf's pool, not just one: a leaked SET would show on some.
  const own = await Promise.all(
    [1, 2, 3, 4].map(() =>
      dataSource.query(`SELECT current_setting('synchronous_commit') AS sync, current_setting('plan_cache_mode') AS plans`),
    ),
  );
  for (const [row] of own as { sync: string; plans: string }[][]) expect(row).toEqual({ sync: 'on', plans: 'auto' });
});

it('closes what it opened', async () => {
  const other = createDataSource({ url: database.url, poolSize: 1 });
  await other.initialize();
  const pool = sidePool(other, { purpose: 'generic', settings: { plan_cache_mode: 'force_generic_plan' }, max: 1 });
  await pool.query('SELECT 1');
  await closeSidePools(other);
  expect(pool.ended).toBe(true);
  await other.destroy();
});
