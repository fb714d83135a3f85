/** Audit events in words: the sentences the admin console shows. */
import { describeEvent, describeParty, type DescribableEvent } from '../../src/server/audit-trail/describe-event.js';

const SAM = '11111111-1111-4111-8111-111111111111';
const OLEG = '22222222-2222-4222-8222-222222222222';
const ADA = '33333333-3333-4333-8333-333333333333';
const BEA = '44444444-4444-4444-8444-444444444444';
const ELECTRONICS = '55555555-5555-4555-8555-555555555555';
const BOOKS = '66666666-6666-4666-8666-666666666666';

const PEOPLE: Record<string, string> = { [SAM]: 'Sam Support', [OLEG]: 'Oleg Petrov', [ADA]: 'Ada Admin', [BEA]: 'Bea Books' };
const STORES: Record<string, string> = { [ELECTRONICS]: 'Electronics', [BOOKS]: 'Books' };
const names = {
  person: (id: string) => PEOPLE[id],
  store: (id: string) => STORES[id],
  client: (id: string) => (id === 'storefront-electronics' ? 'Electronics storefront' : undefined),
};

function event(type: string, fields: Partial<DescribableEvent> = {}): DescribableEvent {
  return { type, actor: null, subject: null, clientId: null, details: {}, ...fields };
}

describe('describeEvent', () => {
  it.each<[string, DescribableEvent, string]>([
    [
      'a session starts',
      event('on_behalf.started', { actor: SAM, subject: OLEG, details: { reason: 'Parcel lost', ticket: 'SUP-1', store_id: ELECTRONICS } }),
      'Sam Support started acting as Oleg Petrov at Electronics — reason “Parcel lost”, ticket SUP-1',
    ],
    [
      'an admin ends it',
      event('on_behalf.ended', { actor: ADA, subject: OLEG, details: { agent: SAM, reason: 'ended_by_admin' } }),
      'Ada Admin ended Sam Support’s session as Oleg Petrov (ended by an admin)',
    ],
    [
      'the agent ends it',
      event('on_behalf.ended', { actor: SAM, subject: OLEG, details: { agent: SAM, reason: 'ended_by_agent' } }),
      'Sam Support ended their session as Oleg Petrov (ended by the agent)',
    ],
    [
      'the kill switch',
      event('on_behalf.ended', { actor: ADA, subject: OLEG, details: { agent: SAM, reason: 'kill_switch' } }),
      'Ada Admin ended Sam Support’s session as Oleg Petrov (all sessions of the agent ended by an admin)',
    ],
    [
      'a permission is revoked',
      event('admin.permission.revoked', {
        actor: ADA,
        subject: BEA,
        details: { permission: 'security:loginOnBehalf', store: 'Books', store_id: BOOKS, reason: 'Left the team' },
      }),
      'Ada Admin revoked Bea Books’s permission to log in on behalf of customers at Books — reason “Left the team”',
    ],
    [
      'a permission for all stores (CLI wording)',
      event('admin.permission.granted', {
        actor: 'cli:root',
        subject: BEA,
        details: { permission: 'security:loginOnBehalf', store: 'all stores' },
      }),
      'an operator at the CLI (root) allowed Bea Books to log in on behalf of customers at all stores',
    ],
    [
      'an unlock',
      event('admin.account.unlocked', { actor: ADA, subject: OLEG, details: { reason: null } }),
      'Ada Admin unlocked the account of Oleg Petrov',
    ],
    [
      'staff created',
      event('admin.account.created', { actor: ADA, subject: BEA, details: { roles: ['support'] } }),
      'Ada Admin created the account of Bea Books (support)',
    ],
    [
      'a client created through the admin API',
      event('admin.client.created', { actor: ADA, clientId: 'storefront-electronics', details: { kind: 'storefront' } }),
      'Ada Admin created the storefront client Electronics storefront (storefront-electronics)',
    ],
    [
      'a client’s policies changed',
      event('admin.client.updated', { actor: ADA, clientId: 'acme', details: { fields: ['delegation', 'may_act'] } }),
      'Ada Admin updated the client acme: delegation, may_act',
    ],
    [
      'a client created with a delegation rule (CLI record)',
      event('admin.client.created', { actor: ADA, details: { client_id: 'acme', delegation: [{ from: 'a', to: 'b' }] } }),
      'Ada Admin created the client acme, with 1 delegation rule(s)',
    ],
    [
      'a failed sign-in with an unknown name',
      event('auth.login.failed', {
        clientId: 'storefront-electronics',
        details: { reason: 'invalid_credentials', username: 'eve@example.com' },
      }),
      'A sign-in as “eve@example.com” failed through Electronics storefront (wrong email or password)',
    ],
    [
      'a lockout',
      event('auth.lockout', { actor: 'system', subject: OLEG, details: { locked_until: '2026-12-05T12:30:00.000Z' } }),
      'Oleg Petrov was locked out until 2026-12-05 12:30 UTC',
    ],
    [
      'a sign-in with a second factor',
      event('auth.login.succeeded', { actor: ADA, subject: ADA, clientId: 'admin-console', details: { amr: ['pwd', 'otp'] } }),
      'Ada Admin signed in through admin-console with a second factor',
    ],
    [
      'a resource server write on behalf',
      event('resource.order.created', { actor: SAM, subject: OLEG }),
      'Sam Support created order for Oleg Petrov',
    ],
    [
      'a token from the exchange',
      event('token.issued', {
        actor: OLEG,
        subject: OLEG,
        clientId: 'storefront-electronics',
        details: { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', audience: 'http://localhost:4003' },
      }),
      'Electronics storefront got a token of Oleg Petrov for http://localhost:4003 (token exchange)',
    ],
    ['an unknown type', event('custom.thing', { actor: SAM, subject: OLEG }), 'custom.thing by Sam Support for Oleg Petrov'],
  ])('%s', (_name, input, sentence) => {
    expect(describeEvent(input, names)).toBe(sentence);
  });

  it('never hides an id it cannot name', () => {
    expect(describeParty('77777777-7777-4777-8777-777777777777', names)).toBe('account 77777777…');
    expect(describeParty('client:orders-api', names)).toBe('the client orders-api');
    expect(describeParty('system', names)).toBe('Behalf');
    expect(describeParty(null, names)).toBe('someone unknown');
  });
});
