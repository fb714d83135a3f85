/** The DPoP rules of the token exchange (RFC 9449 with RFC 8693), as pure functions. */
import { TokenExchangeError } from '../../src/token-exchange/errors.js';
import { checkPresentedBindings, checkProofRequired, tokenTypeFor } from '../../src/token-exchange/sender-constraint.js';

const proof = { jkt: 'key-1' };
const reason = (work: () => void) => {
  try {
    work();
  } catch (error) {
    if (error instanceof TokenExchangeError) return `${error.code}:${error.reason}`;
    throw error;
  }
  return 'ok';
};

describe('checkProofRequired', () => {
  it('asks for a proof where the client’s metadata says so, and only there', () => {
    expect(reason(() => checkProofRequired('delegation', { always: true, onBehalf: false }, undefined))).toBe(
      'invalid_request:dpop_required',
    );
    expect(reason(() => checkProofRequired('on_behalf', { always: false, onBehalf: true }, undefined))).toBe(
      'invalid_request:dpop_required_on_behalf',
    );
    expect(reason(() => checkProofRequired('delegation', { always: false, onBehalf: true }, undefined))).toBe('ok');
    expect(reason(() => checkProofRequired('on_behalf', { always: true, onBehalf: true }, proof))).toBe('ok');
  });
});

describe('checkPresentedBindings', () => {
  it('holds a bound actor token to its own key', () => {
    expect(reason(() => checkPresentedBindings(undefined, { actor: { boundKey: 'key-1' } }))).toBe(
      'invalid_request:actor_token_needs_proof',
    );
    expect(reason(() => checkPresentedBindings({ jkt: 'key-2' }, { actor: { boundKey: 'key-1' } }))).toBe(
      'invalid_dpop_proof:actor_token_key_mismatch',
    );
    expect(reason(() => checkPresentedBindings(proof, { actor: { boundKey: 'key-1' } }))).toBe('ok');
  });

  it('never lets a bound subject become a bearer token, whatever key the requester proves', () => {
    expect(reason(() => checkPresentedBindings(undefined, { subject: { boundKey: 'key-9' } }))).toBe(
      'invalid_request:bound_subject_needs_proof',
    );
    expect(reason(() => checkPresentedBindings(proof, { subject: { boundKey: 'key-9' } }))).toBe('ok');
    expect(reason(() => checkPresentedBindings(undefined, { subject: {}, actor: {} }))).toBe('ok');
  });

  it('names the token type by the proof', () => {
    expect(tokenTypeFor(proof)).toBe('DPoP');
    expect(tokenTypeFor(undefined)).toBe('Bearer');
  });
});
