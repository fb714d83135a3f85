/**
 * Migrations are frozen (no live code decides what they do) and add indexes
 * to big tables CONCURRENTLY, outside a transaction, so appends to the audit
 * trail go on while an index builds.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { AuditWriter } from '../../src/audit/index.js';
import { createDataSource, migrate } from '../../src/server/db/data-source.js';
import { AuditTypePrefix1795536000000 } from '../../migrations/1795536000000-audit-type-prefix.js';
import { ContactNamePrefix1795537000000 } from '../../migrations/1795537000000-contact-name-prefix.js';
import { OrdersAuditTypePrefix1795540000002 } from '../../src/demo/orders-api/migrations/1795540000002-orders-audit-type-prefix.js';
import { AuditPagingIndexes1795545000000 } from '../../migrations/1795545000000-audit-paging-indexes.js';
import { OrdersAuditPagingIndexes1795545000001 } from '../../src/demo/orders-api/migrations/1795545000001-orders-audit-paging-indexes.js';
import { createOrdersDataSource } from '../../src/demo/orders-api/data-source.js';
import { migrateOrders } from '../../src/demo/orders-api/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { eventually } from '../support/poll.js';

const MIGRATION_DIRS = ['migrations', 'src/demo/orders-api/migrations'];

describe('frozen migrations', () => {
  it.each(MIGRATION_DIRS)('%s import nothing but typeorm and each other', (dir) => {
    const files = readdirSync(dir).filter((file) => file.endsWith('.ts') && file !== 'index.ts');
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) {
      const specifiers = [...readFileSync(join(dir, file), 'utf8').matchAll(/\bfrom\s+'([^']+)'|\bimport\s*\(\s*'([^']+)'/g)].map(
        (match) => match[1] ?? match[2],
      );
      expect({ file, imports: specifiers.filter((specifier) => specifier !== 'typeorm' && !/^\.\/[^/]+\.js$/.test(specifier!)) }).toEqual({
        file,
        imports: [],
      });
    }
  });

  it.each([
    ['migrations/1795536000000-audit-type-prefix.ts', AuditTypePrefix1795536000000],
    ['migrations/1795537000000-contact-name-prefix.ts', ContactNamePrefix1795537000000],
    ['src/demo/orders-api/migrations/1795540000002-orders-audit-type-prefix.ts', OrdersAuditTypePrefix1795540000002],
    ['migrations/1795545000000-audit-paging-indexes.ts', AuditPagingIndexes1795545000000],
    ['src/demo/orders-api/migrations/1795545000001-orders-audit-paging-indexes.ts', OrdersAuditPagingIndexes1795545000001],
  ] as const)('%s builds its indexes concurrently, outside a transaction', (file, Migration) => {
    expect(new Migration().transaction).toBe(false);
    const source = readFileSync(file, 'utf8');
    expect(source).toMatch(/CREATE INDEX CONCURRENTLY IF NOT EXISTS/);
    expect(source).not.toMatch(/`(CREATE|DROP) INDEX (?!CONCURRENTLY)/);
  });
});

async function indexes(query: (sql: string, params: unknown[]) => Promise<unknown>, table: string): Promise<Record<string, string>> {
  const rows = (await query(`SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1`, [table])) as {
    indexname: string;
    indexdef: string;
  }[];
  return Object.fromEntries(rows.map((row) => [row.indexname, row.indexdef]));
}

describe('a fresh orders API chain', () => {
  it('gets the pattern-ops type indexes in paging order, not the old ones', async () => {
    const server = process.env.BEHALF_TEST_SERVER_URL!;
    const name = `${process.env.BEHALF_TEST_TEMPLATE}_orders_${process.pid}`;
    const admin = new pg.Client({ connectionString: server });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(server);
    url.pathname = `/${name}`;
    const dataSource = createOrdersDataSource(url.toString(), 2);
    try {
      await dataSource.initialize();
      await Promise.all([migrateOrders(dataSource, url.toString()), migrateOrders(dataSource, url.toString())]);
      const found = await indexes((sql, params) => dataSource.query(sql, params), 'orders_audit_event');
      expect(found).not.toHaveProperty('orders_audit_event_type_idx');
      expect(found).not.toHaveProperty('orders_audit_event_type_prefix_idx');
      expect(found.orders_audit_event_type_qid_idx).toMatch(/\(type varchar_pattern_ops, qid\) WHERE \(qid IS NOT NULL\)/);
      expect(found.orders_audit_event_type_chained_idx).toMatch(/\(type varchar_pattern_ops, seq\) WHERE \(qid IS NULL\)/);
    } finally {
      if (dataSource.isInitialized) await dataSource.destroy();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });
});

describe('the audit type-prefix migration on a busy trail', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** Puts the database back as it was before 1795536000000, with `prefixIndex` left over from a failed build. */
  async function beforeTypePrefix(client: pg.Client, prefixIndex: 'none' | 'invalid'): Promise<void> {
    await client.query(`DELETE FROM migrations WHERE name = 'AuditTypePrefix1795536000000'`);
    await client.query(`CREATE INDEX IF NOT EXISTS audit_event_type_idx ON audit_event (type, seq)`);
    if (prefixIndex === 'none') await client.query(`DROP INDEX IF EXISTS audit_event_type_prefix_idx`);
    // What an interrupted CREATE INDEX CONCURRENTLY leaves behind (superuser only).
    else await client.query(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'audit_event_type_prefix_idx'::regclass`);
  }

  it('lets appends through while the index waits for a writer, and leaves a valid index', async () => {
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    const dataSource = createDataSource({ url: db.url, poolSize: 2 });
    await dataSource.initialize();
    try {
      await beforeTypePrefix(writer, 'none');
      // A long write transaction on audit_event: a plain CREATE INDEX would queue for its SHARE lock
      // behind it, and every later append would queue behind the CREATE INDEX.
      await writer.query('BEGIN');
      await writer.query(
        `INSERT INTO audit_event (seq, id, occurred_at, type, details, content_hash, prev_hash, hash) VALUES (999999999, gen_random_uuid(), now(), 'test.slow_writer', '{}', $1, $1, $1)`,
        ['0'.repeat(64)],
      );
      const migrating = migrate(dataSource);
      await eventually(
        async () => {
          // Not through `writer`: inside its transaction pg_stat_activity would stay as first read.
          const rows = (await dataSource.query(
            `SELECT 1 FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock'`,
          )) as unknown[];
          return rows.length > 0;
        },
        { what: 'the index build waiting for the writer' },
      );
      let timer: NodeJS.Timeout | undefined;
      const appended = await Promise.race([
        new AuditWriter().append(dataSource, { type: 'admin.test.during_index_build', actor: 'system' }),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('append blocked by the index build')), 3000))),
      ]).finally(() => clearTimeout(timer));
      expect(appended.qid).toBeGreaterThan(0);
      await writer.query('ROLLBACK');
      expect(await migrating).toEqual(['AuditTypePrefix1795536000000']);
      const found = await indexes(async (sql, params) => (await writer.query(sql, params)).rows, 'audit_event');
      expect(found).not.toHaveProperty('audit_event_type_idx');
      expect(found.audit_event_type_prefix_idx).toMatch(/\(type varchar_pattern_ops, seq\)/);
    } finally {
      await writer.end();
      await dataSource.destroy();
    }
  });

  it('rebuilds an index a failed concurrent build left invalid', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const dataSource = createDataSource({ url: db.url, poolSize: 2 });
    await dataSource.initialize();
    try {
      await beforeTypePrefix(client, 'invalid');
      expect(await migrate(dataSource)).toEqual(['AuditTypePrefix1795536000000']);
      const { rows } = await client.query(`SELECT indisvalid FROM pg_index WHERE indexrelid = 'audit_event_type_prefix_idx'::regclass`);
      expect(rows).toEqual([{ indisvalid: true }]);
    } finally {
      await client.end();
      await dataSource.destroy();
    }
  });
});
