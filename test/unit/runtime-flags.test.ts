/** Behalf's Node flags are the same wherever it starts: npm scripts, the container, and the test/bench process helper. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../config/load.js';
import { BEHALF_NODE_FLAGS } from '../support/behalf-process.js';

const root = projectRoot();

it.each(['start', 'start:behalf'])('npm run %s passes the production Node flags', (script) => {
  const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  for (const flag of BEHALF_NODE_FLAGS) expect(scripts[script]).toContain(` ${flag} `);
});

it('the container command passes the production Node flags', () => {
  const command = /^CMD (\[.*\])$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))?.[1];
  expect(JSON.parse(command!)).toEqual(['node', ...BEHALF_NODE_FLAGS, 'dist/src/main.js']);
});
