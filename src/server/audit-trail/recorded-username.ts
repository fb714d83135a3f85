/**
 * A username as typed, for the audit trail. The writer strips control
 * characters (PostgreSQL text cannot hold NUL), so `oleg\0@example.com` — a
 * look-up that matches no account — would be recorded as the real address
 * `oleg@example.com`, an attempt that never happened. Such input is recorded
 * escaped instead, visibly and unambiguously (JSON-style `\u0000`, and `\\` for
 * a backslash), with `username_escaped: true`; ordinary input is recorded as is.
 */

/** Control, format (invisible: bidi overrides, zero-width) and lone surrogate characters. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}]/u;
const TO_ESCAPE = /[\p{Cc}\p{Cf}\p{Cs}\\]/gu;

/** Each UTF-16 unit as `\uXXXX` (a tag character beyond U+FFFF becomes its surrogate pair, as in JSON). */
function escape(character: string): string {
  if (character === '\\') return '\\\\';
  let out = '';
  for (let i = 0; i < character.length; i += 1) out += `\\u${character.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

export function recordedUsername(typed: string): { username: string; username_escaped?: true } {
  if (!UNPRINTABLE.test(typed)) return { username: typed };
  return { username: typed.replace(TO_ESCAPE, escape), username_escaped: true };
}
