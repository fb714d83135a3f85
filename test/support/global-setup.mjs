/**
 * Jest global setup: one PostgreSQL for the run (embedded unless DATABASE_URL
 * is set) and a migrated, demo-seeded template database that each test file
 * clones. Jest loads this file natively (outside ts-jest), so it uses the
 * compiled code in dist/ (`pretest` builds it).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../dist/config/load.js';
import { startEmbeddedPostgres } from '../../dist/src/server/db/embedded.js';
import { createServices } from '../../dist/src/server/system.js';
import { seedDemo } from '../../dist/src/server/seed/seed-demo.js';

function withDatabase(url, database) {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export default async function globalSetup() {
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const dir = mkdtempSync(join(tmpdir(), 'behalf-test-pg-'));
    globalThis.__behalfEmbeddedDir = dir;
    globalThis.__behalfEmbedded = await startEmbeddedPostgres({ dir, database: 'postgres' });
    serverUrl = globalThis.__behalfEmbedded.url;
  }
  const template = `behalf_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${template}`);
    await admin.query(`CREATE DATABASE ${template}`);
  } finally {
    await admin.end();
  }
  const config = loadConfig({ env: { NODE_ENV: 'test', DATABASE_URL: withDatabase(serverUrl, template) } });
  const services = await createServices(config);
  try {
    await seedDemo(services);
  } finally {
    await services.database.close();
  }
  process.env.BEHALF_TEST_SERVER_URL = serverUrl;
  process.env.BEHALF_TEST_TEMPLATE = template;
}
