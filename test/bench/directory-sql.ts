/**
 * Times the directory's own search (DirectoryQuery.search, the SQL the portal
 * runs, without HTTP) on a database seeded by scale-data.ts, and prints
 * EXPLAIN (ANALYZE, BUFFERS) of its statements for q=Oleg. Compare a 10k
 * and a 1 M database to see how the search scales.
 *
 * `node dist/test/bench/directory-sql.js <databaseUrl> [--runs 200] [--explain]`
 */
import { pathToFileURL } from 'node:url';
import type { DataSource } from 'typeorm';
import { parseContactSearch } from '../../src/server/directory/directory-params.js';
import { DirectoryQuery, namePrefixSql, searchSql } from '../../src/server/directory/directory-query.js';
import { createDataSource } from '../../src/server/db/data-source.js';
import { closeSidePools } from '../../src/server/db/side-pools.js';

export const DIRECTORY_CASES: Record<string, Record<string, string>> = {
  'q=Oleg': { q: 'Oleg' },
  'q=Oleg&store=books': { q: 'Oleg', store: 'books' },
  'q=Oleg&status=active': { q: 'Oleg', status: 'active' },
  'q=Petrov': { q: 'Petrov' },
  'q=Olegovna (rare)': { q: 'Olegovna' },
  'q=Oleg Petrov': { q: 'Oleg Petrov' },
  'q=oleg@example.com': { q: 'oleg@example.com' },
  'q=555 0100': { q: '555 0100' },
  'q=Oleg&page=10': { q: 'Oleg', page: '10' },
  '(no q)': {},
};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

export async function timeDirectory(
  dataSource: DataSource,
  runs: number,
): Promise<{ name: string; total: number; p50: number; p95: number; max: number }[]> {
  const directory = new DirectoryQuery(dataSource);
  const results = [];
  for (const [name, query] of Object.entries(DIRECTORY_CASES)) {
    const search = parseContactSearch(query);
    let total = 0;
    const times: number[] = [];
    for (let i = 0; i < runs + 10; i += 1) {
      const started = process.hrtime.bigint();
      total = (await directory.search(search)).total;
      if (i >= 10) times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    times.sort((a, b) => a - b);
    results.push({ name, total, p50: percentile(times, 0.5), p95: percentile(times, 0.95), max: times.at(-1)! });
  }
  return results;
}

/** The plan of the statement DirectoryQuery.search sends: the name-prefix one for one word without filters, else the full-text one. */
async function explain(dataSource: DataSource, query: Record<string, string>): Promise<string> {
  const search = parseContactSearch(query);
  const { sql, values } =
    search.namePrefix && search.tsquery && !search.store && !search.status
      ? namePrefixSql({ ...search, namePrefix: search.namePrefix, tsquery: search.tsquery })
      : searchSql(search);
  const rows = (await dataSource.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, values)) as { 'QUERY PLAN': string }[];
  return rows.map((row) => row['QUERY PLAN']).join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [url, ...rest] = process.argv.slice(2);
  if (!url) {
    console.error('usage: directory-sql <databaseUrl> [--runs N] [--explain]');
    process.exit(1);
  }
  const runsAt = rest.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(rest[runsAt + 1]) : 200;
  const dataSource = createDataSource({ url, poolSize: 2, applicationName: 'behalf-directory-sql' });
  await dataSource.initialize();
  try {
    const [{ n }] = (await dataSource.query(`SELECT count(*)::int AS n FROM contact`)) as [{ n: number }];
    console.log(`${n} contacts, ${runs} runs per case (DirectoryQuery.search: at most MATCH_CAP matches counted and ranked)`);
    for (const row of await timeDirectory(dataSource, runs)) {
      console.log(
        `${row.name.padEnd(24)} total=${String(row.total).padStart(7)}  p50=${row.p50.toFixed(1)} ms  p95=${row.p95.toFixed(1)} ms  max=${row.max.toFixed(1)} ms`,
      );
    }
    if (rest.includes('--explain')) {
      for (const name of ['q=Oleg', 'q=Olegovna (rare)', 'q=Oleg&store=books'])
        console.log(`\n== ${name}\n${await explain(dataSource, DIRECTORY_CASES[name]!)}`);
    }
  } finally {
    await closeSidePools(dataSource);
    await dataSource.destroy();
  }
}
