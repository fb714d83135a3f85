/** Two instances starting at once on an empty database: migrations take turns, both come up. */
import pg from 'pg';
import { loadConfig } from '../../config/load.js';
import { createDataSource, migrate } from '../../src/server/db/data-source.js';

it('migrates an empty database once when several instances start together', async () => {
  const server = process.env.BEHALF_TEST_SERVER_URL!;
  const name = `${process.env.BEHALF_TEST_TEMPLATE}_empty_${process.pid}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const sources = [0, 1, 2].map(() =>
    createDataSource({ url: url.toString(), poolSize: loadConfig({ env: { NODE_ENV: 'test' } }).database.poolSize }),
  );
  try {
    await Promise.all(sources.map((source) => source.initialize()));
    const applied = await Promise.all(sources.map((source) => migrate(source)));
    const total = applied.reduce((sum, names) => sum + names.length, 0);
    expect(total).toBe(sources[0]!.migrations.length);
    const [{ count }] = (await sources[0]!.query('SELECT count(*)::int AS count FROM migrations')) as [{ count: number }];
    expect(count).toBe(sources[0]!.migrations.length);
  } finally {
    await Promise.all(sources.map((source) => (source.isInitialized ? source.destroy() : undefined)));
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
});
