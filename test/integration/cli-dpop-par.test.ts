/**
 * `clients create` with the DPoP (RFC 9449) and PAR (RFC 9126) requirements:
 * the flags become the standard metadata (`dpop_bound_access_tokens`,
 * `require_pushed_authorization_requests`) or Behalf's on-behalf-only ones,
 * validated as Behalf will load them, and the creation is audited.
 */
import { loadConfig } from '../../config/load.js';
import { runCli } from '../../src/cli/index.js';
import { createServices, type Services } from '../../src/server/system.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let services: Services;

beforeAll(async () => {
  db = await createTestDatabase();
  services = await createServices(loadConfig({ env: { NODE_ENV: 'test', DATABASE_URL: db.url } }));
});
afterAll(async () => {
  await services?.database.close();
  await db?.drop();
});

async function cli(...argv: string[]) {
  const result = { code: 0, stdout: '', stderr: '' };
  const io = { stdout: { write: (text: string) => (result.stdout += text) }, stderr: { write: (text: string) => (result.stderr += text) } };
  result.code = await runCli(argv, io, { env: { NODE_ENV: 'test', DATABASE_URL: db.url } });
  return result;
}

it('creates a storefront that must push and prove for login on behalf, and a service bound by DPoP throughout', async () => {
  const shop = await cli(
    'clients',
    'create',
    'dpop-shop',
    '--store',
    'books',
    '--redirect-uri',
    'https://shop.example.com/cb',
    '--require-dpop-on-behalf',
    '--require-par-on-behalf',
  );
  expect(shop).toMatchObject({ code: 0, stderr: '' });
  const stored = await services.clients.findForProvider('dpop-shop');
  expect(stored).toMatchObject({ behalf_require_dpop_on_behalf: true, behalf_require_par_on_behalf: true });
  expect(stored).not.toHaveProperty('dpop_bound_access_tokens');

  expect((await cli('clients', 'create', 'dpop-service', '--dpop-bound-access-tokens', '--require-par')).code).toBe(0);
  expect(await services.clients.findForProvider('dpop-service')).toMatchObject({
    dpop_bound_access_tokens: true,
    require_pushed_authorization_requests: true,
  });
  const { events } = await services.audit.events.query({ type: 'admin.client.created', limit: 10 });
  expect(events.map((event) => event.clientId)).toEqual(expect.arrayContaining(['dpop-shop', 'dpop-service']));
});

it('refuses the on-behalf requirements for a client that cannot log in on behalf', async () => {
  const refused = await cli('clients', 'create', 'dpop-bad', '--require-dpop-on-behalf');
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/^behalf: --require-dpop-on-behalf and --require-par-on-behalf are for storefront clients/);
  expect(await services.clients.findForProvider('dpop-bad')).toBeUndefined();
});
