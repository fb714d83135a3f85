/**
 * RFC 8693 §2.1 request parsing: form only (types, presence, size). Meaning
 * (whose token, which target, which policy) is decided later.
 */
import { invalidRequest } from './errors.js';
import { TOKEN_TYPES, type TokenExchangeRequest, type TokenType } from './types.js';
import { isUuid } from '../common/uuid.js';

export type RawParams = Record<string, string | string[] | undefined>;

const KNOWN_TYPES = new Set<string>(Object.values(TOKEN_TYPES));
const MAX_TOKEN = 8192;

function one(params: RawParams, name: string): string | undefined {
  const value = params[name];
  if (Array.isArray(value)) throw invalidRequest(`${name} must be given once`, 'duplicate_parameter');
  return value === undefined || value === '' ? undefined : value;
}

function many(params: RawParams, name: string): string[] {
  const value = params[name];
  if (value === undefined || value === '') return [];
  return (Array.isArray(value) ? value : [value]).filter((item) => item !== '');
}

function tokenType(name: string, value: string | undefined): TokenType | undefined {
  if (value === undefined) return undefined;
  if (!KNOWN_TYPES.has(value))
    throw invalidRequest(`${name} ${value} is not supported; use one of ${[...KNOWN_TYPES].join(', ')}`, 'unsupported_token_type');
  return value as TokenType;
}

export function parseTokenExchangeRequest(params: RawParams): TokenExchangeRequest {
  // RFC 8693 §2.1: subject_token REQUIRED, subject_token_type REQUIRED.
  const subjectToken = one(params, 'subject_token');
  if (!subjectToken) throw invalidRequest('subject_token is required', 'missing_subject_token');
  const subjectTokenType = tokenType('subject_token_type', one(params, 'subject_token_type'));
  if (!subjectTokenType) throw invalidRequest('subject_token_type is required', 'missing_subject_token_type');
  // actor_token_type: REQUIRED when actor_token is present, and MUST NOT be included otherwise.
  const actorToken = one(params, 'actor_token');
  const actorTokenType = tokenType('actor_token_type', one(params, 'actor_token_type'));
  if (actorToken && !actorTokenType) throw invalidRequest('actor_token_type is required with actor_token', 'missing_actor_token_type');
  if (!actorToken && actorTokenType)
    throw invalidRequest('actor_token_type must not be sent without actor_token', 'stray_actor_token_type');
  if (subjectToken.length > MAX_TOKEN || (actorToken?.length ?? 0) > MAX_TOKEN) throw invalidRequest('token too large', 'token_too_large');

  const requested = one(params, 'requested_token_type') ?? TOKEN_TYPES.accessToken;
  if (requested === TOKEN_TYPES.refreshToken)
    throw invalidRequest('token exchange never issues refresh tokens; request an access_token', 'refresh_token_requested');
  if (requested !== TOKEN_TYPES.accessToken && requested !== TOKEN_TYPES.idToken && requested !== TOKEN_TYPES.jwt) {
    throw invalidRequest(
      `requested_token_type ${requested} is not supported; use ${TOKEN_TYPES.accessToken} or ${TOKEN_TYPES.idToken}`,
      'unsupported_requested_token_type',
    );
  }

  let mode: TokenExchangeRequest['mode'];
  if (subjectTokenType === TOKEN_TYPES.accountId) mode = 'on_behalf';
  else if (subjectTokenType === TOKEN_TYPES.accessToken || subjectTokenType === TOKEN_TYPES.jwt) mode = 'delegation';
  else
    throw invalidRequest(
      `subject_token_type ${subjectTokenType} cannot be exchanged here; use an access_token, a jwt, or ${TOKEN_TYPES.accountId} for login on behalf`,
      'unsupported_subject_token_type',
    );
  if (mode === 'on_behalf' && !isUuid(subjectToken))
    throw invalidRequest('subject_token must be a customer account id (a UUID)', 'malformed_subject');
  // Behalf's access tokens are never UUIDs (opaque ones are 43-character ids, JWTs have dots): a UUID
  // declared as a token is an account id sent with the wrong type. Said here, it does not depend on how
  // delegation would fail to find such a token.
  if (mode === 'delegation' && isUuid(subjectToken)) {
    throw invalidRequest(
      `subject_token is an account id, but subject_token_type says ${subjectTokenType}; for login on behalf send subject_token_type=${TOKEN_TYPES.accountId}`,
      'subject_type_mismatch',
    );
  }
  if (requested === TOKEN_TYPES.idToken && mode !== 'on_behalf')
    throw invalidRequest('an id_token can only be requested for login on behalf', 'id_token_for_delegation');

  const scope = one(params, 'scope');
  return {
    mode,
    subjectToken,
    subjectTokenType,
    actorToken,
    actorTokenType,
    requestedTokenType: requested,
    resources: many(params, 'resource'),
    audiences: many(params, 'audience'),
    scope: scope === undefined ? undefined : [...new Set(scope.split(' ').filter(Boolean))],
  };
}
