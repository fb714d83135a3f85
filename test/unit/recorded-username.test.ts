/** The audit trail records what was typed: control and invisible characters escaped, never stripped. */
import { recordedUsername } from '../../src/server/audit-trail/recorded-username.js';

describe('recordedUsername', () => {
  it('records ordinary input as typed, without a flag', () => {
    expect(recordedUsername('oleg@example.com')).toEqual({ username: 'oleg@example.com' });
    expect(recordedUsername('Ölég+tag@exämple.com')).toEqual({ username: 'Ölég+tag@exämple.com' });
    // A backslash alone is printable: no escaping, so no ambiguity with the escaped form (which carries the flag).
    expect(recordedUsername('a\\u0000b')).toEqual({ username: 'a\\u0000b' });
  });

  it('escapes control characters JSON-style and flags it, so the value never equals the address it imitates', () => {
    expect(recordedUsername('oleg\u0000@example.com')).toEqual({ username: 'oleg\\u0000@example.com', username_escaped: true });
    expect(recordedUsername('oleg@example.com\u0007\u001f\u007f\u0085')).toEqual({
      username: 'oleg@example.com\\u0007\\u001f\\u007f\\u0085',
      username_escaped: true,
    });
    expect(recordedUsername('a\tb\nc')).toEqual({ username: 'a\\u0009b\\u000ac', username_escaped: true });
  });

  it('escapes invisible format characters (bidi overrides, zero-width) and lone surrogates', () => {
    expect(recordedUsername('ol\u200beg@example.com').username).toBe('ol\\u200beg@example.com');
    expect(recordedUsername('\u202emoc.elpmaxe@gelo').username).toBe('\\u202emoc.elpmaxe@gelo');
    expect(recordedUsername('x\ud800y')).toEqual({ username: 'x\\ud800y', username_escaped: true });
    // A format character beyond U+FFFF (a language tag) as its surrogate pair, like JSON.
    expect(recordedUsername('a\u{e0001}b').username).toBe('a\\udb40\\udc01b');
  });

  it('escapes backslashes too once anything is escaped: the escaped text reads back one way only', () => {
    expect(recordedUsername('a\\u0000\u0000')).toEqual({ username: 'a\\\\u0000\\u0000', username_escaped: true });
  });
});
