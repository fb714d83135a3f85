/**
 * Turns what a person types into the search box into a PostgreSQL tsquery
 * over `contact.search` (see the initial migration: a 'simple' tsvector of
 * names, emails, the phones as typed, their digit groups and their digits run
 * together). Pure and I/O-free so every hostile input can be unit-tested.
 *
 * Safety: user text never reaches the tsquery parser as syntax. Words keep
 * only letters, digits and `@ . _ -` (no quotes, backslashes, operators),
 * each is wrapped in quotes as one lexeme, and the operators between them are
 * ours. The result is cast with `::tsquery`, which does not normalise, so the
 * words are lower-cased here exactly as the 'simple' configuration does.
 */

export const MAX_QUERY_LENGTH = 200;
export const MAX_WORDS = 8;
const MAX_WORD_LENGTH = 100;
/** E.164 numbers have at most 15 digits; longer digit runs are not split (bounded query size). */
const MAX_PHONE_DIGITS = 15;
/**
 * Splits into groups shorter than this are not tried: one-digit groups would
 * multiply the alternatives (and the index work) for little gain.
 */
const MIN_GROUP = 2;

export class SearchTermsError extends Error {
  override name = 'SearchTermsError';
}

const lexeme = (word: string, prefix: boolean) => `'${word}'${prefix ? ':*' : ''}`;
/** Adjacent lexemes (the phrase operator), the last one a prefix: how a partly typed number matches. */
const phrase = (parts: string[]) => parts.map((part, i) => lexeme(part, i === parts.length - 1)).join(' <-> ');

/**
 * A phone number typed as digits in any grouping ("+1 555 0100", "5550100",
 * "(555) 01"). The document holds each stored group and the whole digit run,
 * so: the digit run as a prefix (typed from the start, country code
 * included), the groups as typed, and every split of the digits into two or
 * three adjacent groups (typed without the country code and without spaces).
 * Digits that start inside a stored group ("550100" for "555 0100") do not
 * match: tsquery has prefixes, not suffixes.
 */
function phoneQuery(text: string): string | undefined {
  const groups = text.split(/\D+/).filter(Boolean);
  const digits = groups.join('');
  if (!digits) return undefined;
  const alternatives = new Set<string>([lexeme(digits, true)]);
  if (groups.length > 1 && groups.length <= MAX_WORDS) alternatives.add(phrase(groups));
  if (digits.length <= MAX_PHONE_DIGITS) {
    for (let i = MIN_GROUP; i <= digits.length - MIN_GROUP; i += 1) {
      alternatives.add(phrase([digits.slice(0, i), digits.slice(i)]));
      for (let j = i + MIN_GROUP; j <= digits.length - MIN_GROUP; j += 1)
        alternatives.add(phrase([digits.slice(0, i), digits.slice(i, j), digits.slice(j)]));
    }
  }
  return [...alternatives]
    .map((alternative) => (alternatives.size > 1 && alternative.includes('<->') ? `(${alternative})` : alternative))
    .join(' | ');
}

/** Words as the document's parser sees them: letters and digits, with `@ . _ -` kept inside (emails, hyphenated names). */
function words(text: string): string[] {
  return text
    .split(/[^\p{L}\p{N}@._-]+/u)
    .map((word) => word.replace(/^[@._-]+|[@._-]+$/g, ''))
    .filter(Boolean);
}

/**
 * The tsquery text for `input`, or undefined when nothing searchable remains
 * (punctuation only): the caller then matches nothing rather than everything.
 * Each word is a prefix ("ole" finds Oleg), except single characters; all
 * words must match.
 */
export function contactTsQuery(input: string): string | undefined {
  if (input.length > MAX_QUERY_LENGTH) throw new SearchTermsError(`q must be at most ${MAX_QUERY_LENGTH} characters`);
  const text = input.normalize('NFC').toLowerCase().trim();
  // Only digits and phone punctuation, with enough digits to be a number: search phones.
  if (/^[\d\s+().-]+$/.test(text) && (text.match(/\d/g) ?? []).length >= 3) return phoneQuery(text);
  const found = words(text);
  if (found.length > MAX_WORDS) throw new SearchTermsError(`q may have at most ${MAX_WORDS} words`);
  if (found.some((word) => word.length > MAX_WORD_LENGTH))
    throw new SearchTermsError(`a word in q may have at most ${MAX_WORD_LENGTH} characters`);
  if (!found.length) return undefined;
  // A one-character prefix matches nearly every contact (a slow, useless answer): such words must match whole.
  return found.map((word) => lexeme(word, [...word].length > 1)).join(' & ');
}

/**
 * `input` as one lower-case name prefix ("Oleg" → "oleg", "anna-m" →
 * "anna-m"), or undefined when it is anything else: more words, digits,
 * email or other punctuation, one letter. Such a prefix may be looked up in
 * the name indexes (see DirectoryQuery): a name that starts with these
 * letters also holds a lexeme that starts with them, so what that look-up
 * finds the full-text query finds too.
 */
export function namePrefix(input: string): string | undefined {
  const text = input.normalize('NFC').toLowerCase().trim();
  if (text.length > MAX_WORD_LENGTH || [...text].length < 2) return undefined;
  return /^\p{L}+(?:-\p{L}+)*$/u.test(text) ? text : undefined;
}
