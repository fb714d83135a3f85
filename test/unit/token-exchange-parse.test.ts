/** RFC 8693 §2.1 request parsing: every malformed request is refused as invalid_request, saying what is wrong. */
import { TokenExchangeError } from '../../src/token-exchange/errors.js';
import { parseTokenExchangeRequest, type RawParams } from '../../src/token-exchange/parse.js';
import { TOKEN_TYPES } from '../../src/token-exchange/types.js';

const CUSTOMER = '5a4c1b1e-9d6f-4c57-8f1e-2b3c4d5e6f70';
const AGENT_TOKEN = 'Vt3CkRj7bQy4n6P8sLm2xZa9WdFg5Hh1Jk0Ll3Oo7Pq';

function onBehalfRequest(extra: RawParams = {}): RawParams {
  return {
    subject_token: CUSTOMER,
    subject_token_type: TOKEN_TYPES.accountId,
    actor_token: AGENT_TOKEN,
    actor_token_type: TOKEN_TYPES.accessToken,
    ...extra,
  };
}

function refusal(params: RawParams): TokenExchangeError {
  try {
    parseTokenExchangeRequest(params);
  } catch (error) {
    if (error instanceof TokenExchangeError) return error;
    throw error;
  }
  throw new Error(`expected a refusal for ${JSON.stringify(params)}`);
}

function expectRefusal(params: RawParams, reason: string, description: RegExp): void {
  const error = refusal(params);
  expect({ code: error.code, reason: error.reason }).toEqual({ code: 'invalid_request', reason });
  expect(error.description).toMatch(description);
}

describe('a well-formed request', () => {
  it('is read as login on behalf when the subject is an account id', () => {
    expect(parseTokenExchangeRequest(onBehalfRequest())).toEqual({
      mode: 'on_behalf',
      subjectToken: CUSTOMER,
      subjectTokenType: TOKEN_TYPES.accountId,
      actorToken: AGENT_TOKEN,
      actorTokenType: TOKEN_TYPES.accessToken,
      requestedTokenType: TOKEN_TYPES.accessToken,
      resources: [],
      audiences: [],
      scope: undefined,
    });
  });

  it('is read as delegation when the subject is an access token or a JWT', () => {
    expect(parseTokenExchangeRequest({ subject_token: AGENT_TOKEN, subject_token_type: TOKEN_TYPES.accessToken }).mode).toBe('delegation');
    expect(parseTokenExchangeRequest({ subject_token: 'a.b.c', subject_token_type: TOKEN_TYPES.jwt }).mode).toBe('delegation');
    // The actor token is optional at this stage (login on behalf requires it later).
    expect(parseTokenExchangeRequest({ subject_token: CUSTOMER, subject_token_type: TOKEN_TYPES.accountId }).actorToken).toBeUndefined();
  });

  it('keeps every resource and audience (given once or more), dropping empty ones', () => {
    const parsed = parseTokenExchangeRequest(
      onBehalfRequest({ resource: ['http://localhost:4003', '', 'http://localhost:4010'], audience: 'orders' }),
    );
    expect(parsed.resources).toEqual(['http://localhost:4003', 'http://localhost:4010']);
    expect(parsed.audiences).toEqual(['orders']);
    expect(parseTokenExchangeRequest(onBehalfRequest({ resource: '', audience: [] })).resources).toEqual([]);
  });

  it('splits scope on spaces, without duplicates or empty items; no scope stays undefined', () => {
    expect(parseTokenExchangeRequest(onBehalfRequest({ scope: 'orders:read  orders:write orders:read' })).scope).toEqual([
      'orders:read',
      'orders:write',
    ]);
    expect(parseTokenExchangeRequest(onBehalfRequest({ scope: '' })).scope).toBeUndefined();
    expect(parseTokenExchangeRequest(onBehalfRequest({ scope: '   ' })).scope).toEqual([]);
  });

  it('accepts access_token (the default), id_token and jwt as requested_token_type', () => {
    expect(parseTokenExchangeRequest(onBehalfRequest({ requested_token_type: TOKEN_TYPES.accessToken })).requestedTokenType).toBe(
      TOKEN_TYPES.accessToken,
    );
    expect(parseTokenExchangeRequest(onBehalfRequest({ requested_token_type: TOKEN_TYPES.idToken })).requestedTokenType).toBe(
      TOKEN_TYPES.idToken,
    );
    expect(parseTokenExchangeRequest(onBehalfRequest({ requested_token_type: TOKEN_TYPES.jwt })).requestedTokenType).toBe(TOKEN_TYPES.jwt);
    expect(parseTokenExchangeRequest(onBehalfRequest({ requested_token_type: '' })).requestedTokenType).toBe(TOKEN_TYPES.accessToken);
  });

  it('accepts tokens up to 8192 characters', () => {
    expect(parseTokenExchangeRequest(onBehalfRequest({ actor_token: 'a'.repeat(8192) })).actorToken).toHaveLength(8192);
  });
});

describe('a malformed request', () => {
  it('needs a subject_token', () => {
    expectRefusal(onBehalfRequest({ subject_token: undefined }), 'missing_subject_token', /subject_token is required/);
    expectRefusal(onBehalfRequest({ subject_token: '' }), 'missing_subject_token', /subject_token is required/);
  });

  it('needs a subject_token_type', () => {
    expectRefusal(onBehalfRequest({ subject_token_type: undefined }), 'missing_subject_token_type', /subject_token_type is required/);
    expectRefusal(onBehalfRequest({ subject_token_type: '' }), 'missing_subject_token_type', /subject_token_type is required/);
  });

  it('refuses single-valued parameters given more than once', () => {
    for (const name of ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'scope']) {
      expectRefusal(onBehalfRequest({ [name]: ['x', 'y'] }), 'duplicate_parameter', new RegExp(`^${name} must be given once`));
    }
  });

  it('refuses token type URNs it does not know, listing the ones it does', () => {
    expectRefusal(
      onBehalfRequest({ subject_token_type: 'urn:example:unknown' }),
      'unsupported_token_type',
      /subject_token_type urn:example:unknown is not supported; use one of .*account_id/,
    );
    expectRefusal(
      onBehalfRequest({ actor_token_type: 'urn:ietf:params:oauth:token-type:saml2' }),
      'unsupported_token_type',
      /actor_token_type urn:ietf:params:oauth:token-type:saml2 is not supported/,
    );
  });

  it('refuses subject token types that cannot be exchanged here', () => {
    expectRefusal(
      onBehalfRequest({ subject_token_type: TOKEN_TYPES.refreshToken }),
      'unsupported_subject_token_type',
      /cannot be exchanged here/,
    );
    expectRefusal(
      onBehalfRequest({ subject_token_type: TOKEN_TYPES.idToken }),
      'unsupported_subject_token_type',
      /use an access_token, a jwt, or urn:behalf/,
    );
  });

  it('needs an account id (a UUID) as the subject of login on behalf', () => {
    expectRefusal(onBehalfRequest({ subject_token: 'oleg@example.com' }), 'malformed_subject', /must be a customer account id \(a UUID\)/);
    expectRefusal(onBehalfRequest({ subject_token: `${CUSTOMER}x` }), 'malformed_subject', /UUID/);
  });

  it('refuses an account id declared as an access token or a JWT, pointing at the account_id type', () => {
    expectRefusal(
      onBehalfRequest({ subject_token_type: TOKEN_TYPES.accessToken }),
      'subject_type_mismatch',
      /subject_token is an account id.*urn:behalf:params:oauth:token-type:account_id/,
    );
    expectRefusal(onBehalfRequest({ subject_token_type: TOKEN_TYPES.jwt }), 'subject_type_mismatch', /account id/);
  });

  it('requires actor_token_type with actor_token, and refuses it without one (RFC 8693 §2.1)', () => {
    expectRefusal(
      onBehalfRequest({ actor_token_type: undefined }),
      'missing_actor_token_type',
      /actor_token_type is required with actor_token/,
    );
    expectRefusal(onBehalfRequest({ actor_token: undefined }), 'stray_actor_token_type', /must not be sent without actor_token/);
    expectRefusal(onBehalfRequest({ actor_token: '' }), 'stray_actor_token_type', /must not be sent without actor_token/);
  });

  it('refuses tokens over 8192 characters', () => {
    expectRefusal(onBehalfRequest({ actor_token: 'a'.repeat(8193) }), 'token_too_large', /too large/);
    expectRefusal(onBehalfRequest({ subject_token: 'a'.repeat(8193) }), 'token_too_large', /too large/);
  });

  it('never issues a refresh token, and refuses other requested types', () => {
    expectRefusal(
      onBehalfRequest({ requested_token_type: TOKEN_TYPES.refreshToken }),
      'refresh_token_requested',
      /never issues refresh tokens/,
    );
    expectRefusal(
      onBehalfRequest({ requested_token_type: 'urn:example:unknown' }),
      'unsupported_requested_token_type',
      /urn:example:unknown is not supported; use .*access_token or .*id_token/,
    );
    expectRefusal(onBehalfRequest({ requested_token_type: TOKEN_TYPES.accountId }), 'unsupported_requested_token_type', /not supported/);
  });

  it('gives an ID token only for login on behalf', () => {
    expectRefusal(
      { subject_token: AGENT_TOKEN, subject_token_type: TOKEN_TYPES.accessToken, requested_token_type: TOKEN_TYPES.idToken },
      'id_token_for_delegation',
      /only be requested for login on behalf/,
    );
  });
});
