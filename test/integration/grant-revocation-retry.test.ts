/**
 * Ending an on-behalf session revokes its grant (and every opaque token under
 * it). When that revocation fails, the session still ends, the failure is
 * logged (no secrets), and the grant stays queued in the database: the expiry
 * sweep revokes it once revocation works again, instead of leaving an orphan.
 * The fault is real: a trigger makes PostgreSQL refuse to delete the grant.
 */
import { jest } from '@jest/globals';
import { decodeJwt } from 'jose';
import { startBehalf, type RunningBehalf } from '../support/behalf.js';
import { basic, postForm } from '../support/oauth.js';
import { customerId, exchange, onBehalfParams, reauthenticate } from '../support/on-behalf.js';
import { eventually } from '../support/poll.js';

let running: RunningBehalf;

beforeAll(async () => {
  running = await startBehalf({ overrides: { onBehalf: { expirySweepSeconds: 1 } } });
});
afterAll(async () => {
  await running?.behalf.dataSource.query(`DROP TRIGGER IF EXISTS refuse_grant_delete ON oidc_payload`).catch(() => undefined);
  await running?.stop();
});

async function grantRows(grantId: string): Promise<number> {
  const [row] = (await running.behalf.dataSource.query(
    `SELECT count(*)::int AS n FROM oidc_payload WHERE (model = 'Grant' AND id = $1) OR grant_id = $1`,
    [grantId],
  )) as { n: number }[];
  return row!.n;
}

async function queued(grantId: string): Promise<number> {
  const [row] = (await running.behalf.dataSource.query(`SELECT count(*)::int AS n FROM on_behalf_grant_revocation WHERE grant_id = $1`, [
    grantId,
  ])) as { n: number }[];
  return row!.n;
}

/** PostgreSQL refuses to delete this grant's rows until the trigger is dropped. */
async function refuseDeletingGrant(grantId: string): Promise<void> {
  if (!/^[A-Za-z0-9_-]+$/.test(grantId)) throw new Error(`unexpected grant id ${grantId}`);
  await running.behalf.dataSource.query(`
    CREATE OR REPLACE FUNCTION refuse_grant_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.id = '${grantId}' OR OLD.grant_id = '${grantId}' THEN RAISE EXCEPTION 'injected fault: grant deletion refused'; END IF;
      RETURN OLD;
    END $$`);
  await running.behalf.dataSource.query(
    `CREATE TRIGGER refuse_grant_delete BEFORE DELETE ON oidc_payload FOR EACH ROW EXECUTE FUNCTION refuse_grant_delete()`,
  );
}

describe('a grant revocation that fails when its session ends', () => {
  it('is logged, the session still ends, and the sweep revokes the grant once revocation works again', async () => {
    const oleg = await customerId(running, 'electronics', 'oleg@example.com');
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    const opened = await exchange(running, onBehalfParams(oleg, actorToken));
    expect(opened.status).toBe(200);
    const sessionId = String(decodeJwt(String(opened.body.access_token)).obo_sid);
    const { grantId } = (await running.behalf.onBehalf.session(sessionId))!;
    expect(await grantRows(grantId)).toBeGreaterThan(0);

    const warn = jest.spyOn(running.behalf.logger, 'warn');
    await refuseDeletingGrant(grantId);
    try {
      // The storefront's "End session".
      const ended = await postForm(`${running.issuer}/on-behalf/sessions/end`, new URLSearchParams({ session_id: sessionId }), {
        authorization: basic('storefront-electronics', 'storefront-demo-secret'),
      });
      expect({ status: ended.status, active: ended.body.active, end_reason: ended.body.end_reason }).toEqual({
        status: 200,
        active: false,
        end_reason: 'ended_by_client',
      });
      expect(await grantRows(grantId)).toBeGreaterThan(0);
      expect(await queued(grantId)).toBe(1);
      const calls = warn.mock.calls as unknown as [string, Record<string, unknown> | undefined][];
      const logged = calls.find(([, meta]) => meta?.event === 'on_behalf.grant_revocation_failed');
      expect(logged?.[1]).toMatchObject({ session_id: sessionId, error: expect.stringContaining('injected fault') });
      expect(JSON.stringify(logged)).not.toContain(grantId);
    } finally {
      await running.behalf.dataSource.query(`DROP TRIGGER IF EXISTS refuse_grant_delete ON oidc_payload`);
      warn.mockRestore();
    }

    // The sweep (every second here) retries the queued revocation.
    await eventually(async () => (await grantRows(grantId)) === 0, {
      timeoutMs: 10_000,
      intervalMs: 200,
      what: 'the sweep revoked the grant',
    });
    expect(await queued(grantId)).toBe(0);
    expect(await running.behalf.onBehalf.session(sessionId)).toMatchObject({ endReason: 'ended_by_client' });
  });

  it('a revocation that works clears its queue entry at once', async () => {
    const oleg = await customerId(running, 'electronics', 'oleg@example.com');
    const { actorToken } = await reauthenticate(running, { customer: oleg });
    const opened = await exchange(running, onBehalfParams(oleg, actorToken));
    const sessionId = String(decodeJwt(String(opened.body.access_token)).obo_sid);
    const { grantId } = (await running.behalf.onBehalf.session(sessionId))!;
    await running.behalf.onBehalf.endSession(sessionId, 'system', 'ended_by_admin');
    expect(await grantRows(grantId)).toBe(0);
    expect(await queued(grantId)).toBe(0);
  });

  it('a re-authentication grant the kill switch could not revoke: its actor token is refused at once, and the sweep revokes it', async () => {
    const oleg = await customerId(running, 'electronics', 'oleg@example.com');
    const sam = (await running.behalf.accounts.findByUsername(null, 'support@example.com'))!.id;
    const { actorToken } = await reauthenticate(running, { customer: oleg, reason: 'Kill switch under a fault' });
    const [reauth] = (await running.behalf.dataSource.query(
      `SELECT grant_id FROM on_behalf_reauth WHERE agent_account_id = $1 ORDER BY created_at DESC LIMIT 1`,
      [sam],
    )) as { grant_id: string }[];
    const grantId = reauth!.grant_id;
    await refuseDeletingGrant(grantId);
    try {
      await running.behalf.onBehalf.endAgentSessions(sam, 'system', 'kill_switch');
      expect(await grantRows(grantId)).toBeGreaterThan(0);
      expect(await queued(grantId)).toBe(1);
      // The grant and its token are still there, but the re-authentication is marked revoked: no session opens.
      const refused = await exchange(running, onBehalfParams(oleg, actorToken));
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('invalid_request');
    } finally {
      await running.behalf.dataSource.query(`DROP TRIGGER IF EXISTS refuse_grant_delete ON oidc_payload`);
    }
    await eventually(async () => (await grantRows(grantId)) === 0, {
      timeoutMs: 10_000,
      intervalMs: 200,
      what: 'the sweep revoked the re-authentication grant',
    });
    expect(await queued(grantId)).toBe(0);
  });
});
