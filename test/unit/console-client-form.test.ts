/** The console's client form ↔ the admin API's client metadata (creation and RFC 7396 merge patch). */
import {
  ClientFormError,
  clientErrorField,
  formValues,
  metadataFrom,
  parseDelegation,
  readForm,
} from '../../src/server/console/client-form.js';

const INTEGRATOR = {
  client_id: 'acme',
  client_name: 'Acme',
  client_kind: 'service',
  grant_types: ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'],
  redirect_uris: [],
  allowed_resources: ['http://localhost:4003', 'urn:behalf:demo:payments'],
  default_resource: 'http://localhost:4003',
  delegation: [{ from: 'http://localhost:4003', to: 'urn:behalf:demo:payments', scope: 'orders:read' }],
  may_act: 'orders-api',
};

describe('client form', () => {
  it('round-trips a client through the form', () => {
    const values = formValues(INTEGRATOR);
    expect(values.delegation).toBe('http://localhost:4003 -> urn:behalf:demo:payments orders:read');
    expect(values.allowed_resources).toBe('http://localhost:4003\nurn:behalf:demo:payments');
    expect(metadataFrom(values, false)).toEqual({
      ...INTEGRATOR,
      first_party: false,
      post_logout_redirect_uris: [],
      response_types: [],
      resource_servers: [],
    });
  });

  it('reads the browser’s form: checkboxes, lines, trimmed text', () => {
    const values = readForm({
      client_id: ' x ',
      grant_types: 'authorization_code',
      first_party: 'on',
      redirect_uris: 'https://a/cb\r\n\r\nhttps://b/cb',
    });
    expect(values).toMatchObject({ client_id: 'x', grant_types: ['authorization_code'], first_party: true });
    expect(metadataFrom(values, false)).toMatchObject({ redirect_uris: ['https://a/cb', 'https://b/cb'], response_types: ['code'] });
  });

  it('a merge patch removes what the form left empty (null), never the client id', () => {
    const patch = metadataFrom({ ...formValues(INTEGRATOR), delegation: '', may_act: '', default_resource: '' }, true);
    expect(patch).toMatchObject({ delegation: null, may_act: null, default_resource: null, on_behalf: null, store: null });
    expect(patch).not.toHaveProperty('client_id');
  });

  it('an on-behalf profile needs its scope; a rule must read from -> to', () => {
    expect(metadataFrom({ ...formValues({}), on_behalf_scope: 'orders:read', on_behalf_ttl: '600' }, false).on_behalf).toEqual({
      scope: 'orders:read',
      token_ttl: 600,
    });
    expect(() => metadataFrom({ ...formValues({}), on_behalf_resource: 'http://localhost:4003' }, false)).toThrow(ClientFormError);
    expect(() => parseDelegation('http://a http://b')).toThrow(/must read: from-resource -> to-resource/);
    expect(parseDelegation('a->b\n c -> d  x y ')).toEqual([
      { from: 'a', to: 'b' },
      { from: 'c', to: 'd', scope: 'x y' },
    ]);
  });

  it('names the field an API error is about', () => {
    expect(clientErrorField('redirect_uris must be https')).toBe('redirect_uris');
    expect(clientErrorField('on_behalf.scope must not be empty')).toBe('on_behalf_scope');
    expect(clientErrorField('default_resource must be one of allowed_resources')).toBe('default_resource');
    expect(clientErrorField('something else')).toBeUndefined();
  });
});
