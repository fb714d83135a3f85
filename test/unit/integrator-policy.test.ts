/** The policy for dynamically registered clients, without HTTP or a database. */
import { applyIntegratorPolicy } from '../../src/server/clients/integrator-policy.js';

const ORDERS = 'https://orders.example.com';
const PAYMENTS = 'urn:example:payments';
const resolve = (value: string) => ({ orders: ORDERS, payments: PAYMENTS, [ORDERS]: ORDERS, [PAYMENTS]: PAYMENTS })[value];

describe('applyIntegratorPolicy', () => {
  it('fills in a service client within the allowance, the only resource as its default', () => {
    const properties: Record<string, unknown> = { client_name: 'Acme' };
    expect(applyIntegratorPolicy(properties, [ORDERS], resolve)).toBeUndefined();
    expect(properties).toEqual({
      client_name: 'Acme',
      client_kind: 'service',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      allowed_resources: [ORDERS],
      default_resource: ORDERS,
    });
  });

  it('picks no default among several resources', () => {
    const properties: Record<string, unknown> = {};
    expect(applyIntegratorPolicy(properties, [ORDERS, PAYMENTS], resolve)).toBeUndefined();
    expect(properties.default_resource).toBeUndefined();
  });

  it('accepts the harmless defaults a read echoes back (RFC 7592 update)', () => {
    const echoed = { first_party: false, client_kind: 'service', resource_servers: [], allowed_resources: [ORDERS] };
    expect(applyIntegratorPolicy(echoed, [ORDERS], resolve)).toBeUndefined();
  });

  it.each([
    [{ first_party: true }, /first_party/],
    [{ client_kind: 'storefront' }, /client_kind/],
    [{ store: 'books' }, /store/],
    [{ on_behalf: { scope: 'x' } }, /on_behalf/],
    [{ resource_servers: [ORDERS] }, /resource_servers/],
    [{ behalf_pkce_optional: true }, /behalf_pkce_optional/],
    [{ grant_types: ['refresh_token'] }, /grant_types/],
    [{ grant_types: [] }, /grant_types/],
    [{ response_types: ['code'] }, /response_types/],
    [{ token_endpoint_auth_method: 'private_key_jwt' }, /token_endpoint_auth_method/],
    [{ allowed_resources: [PAYMENTS] }, /not allowed by the initial access token/],
    [{ allowed_resources: 'orders' }, /array/],
    [{ delegation: [{ from: ORDERS, to: 'payments' }] }, /delegation: to payments/],
    [{ delegation: [{ from: 'unknown', to: ORDERS }] }, /delegation: from unknown/],
    [{ client_name: 'a\u0000b' }, /NUL/],
  ])('refuses %j as invalid_client_metadata', (properties, message) => {
    const problem = applyIntegratorPolicy(properties, [ORDERS], resolve);
    expect(problem?.error).toBe('invalid_client_metadata');
    expect(problem?.description).toMatch(message);
  });

  it('refuses redirect URIs as invalid_redirect_uri (RFC 7591 §3.2.2)', () => {
    expect(applyIntegratorPolicy({ redirect_uris: ['https://acme.example.com/cb'] }, [ORDERS], resolve)?.error).toBe(
      'invalid_redirect_uri',
    );
  });

  it('compares resources normalised (an origin with or without its slash)', () => {
    expect(applyIntegratorPolicy({ allowed_resources: [`${ORDERS}/`] }, [ORDERS], resolve)).toBeUndefined();
  });
});
