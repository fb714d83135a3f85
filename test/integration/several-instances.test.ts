/** Two instances on one database behave as one for login on behalf: a session ended at one is refused at the other. */
import { decodeJwt } from 'jose';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { basic, postForm } from '../support/oauth.js';
import { customerId, exchange, onBehalfParams, reauthenticate } from '../support/on-behalf.js';

let db: TestDatabase;
let a: RunningBehalf;
let b: RunningBehalf;

beforeAll(async () => {
  db = await createTestDatabase();
  a = await startBehalf({ database: db });
  b = await startBehalf({ database: db, env: { ISSUER: a.issuer } });
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await db?.drop();
});

it('refuses at one instance the session ended at the other, and reports it ended there too', async () => {
  const oleg = await customerId(a, 'electronics', 'oleg@example.com');
  const { actorToken } = await reauthenticate(a, { customer: oleg });
  const opened = await exchange(a, onBehalfParams(oleg, actorToken));
  const sid = String(decodeJwt(String(opened.body.access_token)).obo_sid);
  // The same actor token continues the session at the other instance…
  expect((await exchange(b, onBehalfParams(oleg, actorToken))).status).toBe(200);

  // …until the storefront ends it there.
  const auth = { authorization: basic('storefront-electronics', 'storefront-demo-secret') };
  expect((await postForm(`${b.issuer}/on-behalf/sessions/end`, new URLSearchParams({ session_id: sid }), auth)).body).toMatchObject({ active: false });
  const refused = await exchange(a, onBehalfParams(oleg, actorToken));
  expect(refused.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/session has ended/) });
  const status = (await (await fetch(`${a.issuer}/on-behalf/sessions/${sid}/status`, { headers: { authorization: basic('orders-api', 'orders-api-demo-secret') } })).json()) as { active: boolean };
  expect(status.active).toBe(false);
});
