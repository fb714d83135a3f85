import { rmSync } from 'node:fs';
import pg from 'pg';

export default async function globalTeardown() {
  const serverUrl = process.env.BEHALF_TEST_SERVER_URL;
  const template = process.env.BEHALF_TEST_TEMPLATE;
  if (serverUrl && template) {
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      // Also the clones of test files that crashed before dropping theirs.
      const { rows } = await admin.query(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`${template}%`]);
      for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(datname)} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
  await globalThis.__behalfEmbedded?.stop();
  // The run's own cluster folder (a few dozen MB): nothing in it is needed after the run.
  if (globalThis.__behalfEmbeddedDir) rmSync(globalThis.__behalfEmbeddedDir, { recursive: true, force: true });
}
