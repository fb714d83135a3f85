/** The search box → tsquery translation: prefixes, phones, and nothing the tsquery parser could read as syntax. */
import { contactTsQuery, MAX_QUERY_LENGTH, namePrefix, SearchTermsError } from '../../src/server/directory/search-terms.js';

describe('contactTsQuery', () => {
  it('makes every word a lower-cased prefix, all required', () => {
    expect(contactTsQuery('Oleg')).toBe("'oleg':*");
    expect(contactTsQuery('  ole  PET ')).toBe("'ole':* & 'pet':*");
    expect(contactTsQuery('oleg@example.com')).toBe("'oleg@example.com':*");
    expect(contactTsQuery('Anna-Maria')).toBe("'anna-maria':*");
    expect(contactTsQuery('MÜLLER')).toBe("'müller':*");
    // One character is too short a prefix to be useful: it must match a whole word.
    expect(contactTsQuery('o petrov')).toBe("'o' & 'petrov':*");
  });

  it('searches phone numbers however they are grouped', () => {
    const typed = contactTsQuery('+1 555 0100')!;
    expect(typed).toContain("'15550100':*");
    expect(typed).toContain("'1' <-> '555' <-> '0100':*");
    const run = contactTsQuery('5550100')!;
    expect(run).toContain("'5550100':*");
    expect(run).toContain("('555' <-> '0100':*)");
    expect(contactTsQuery('0100')).toContain("'0100':*");
  });

  it('bounds the number of phone alternatives', () => {
    const long = contactTsQuery('123456789012345')!;
    expect(long.split(' | ').length).toBeLessThan(100);
    expect(contactTsQuery('1234567890123456789012')).toBe("'1234567890123456789012':*");
  });

  it.each([
    ["'):* | !", undefined],
    ["o'brien", "'o' & 'brien':*"],
    ["\\' & !xy:* <-> (", "'xy':*"],
    ['!!! ---', undefined],
    ['a:*|b', "'a' & 'b'"],
    ['"quoted"', "'quoted':*"],
    ['; DROP TABLE contact; --', "'drop':* & 'table':* & 'contact':*"],
  ])('keeps only word characters from %j', (input, expected) => {
    const query = contactTsQuery(input);
    expect(query).toBe(expected);
    // Whatever comes out: quotes only around our own lexemes, no backslashes.
    if (query) expect(query.replace(/'[\p{L}\p{N}@._-]+'(:\*)?/gu, '')).toMatch(/^[\s&|<>()-]*$/u);
  });

  it('refuses overlong queries and too many words', () => {
    expect(() => contactTsQuery('x'.repeat(MAX_QUERY_LENGTH + 1))).toThrow(SearchTermsError);
    expect(() => contactTsQuery('a b c d e f g h i')).toThrow(/at most 8 words/);
  });
});

describe('namePrefix', () => {
  it('takes one word of letters (inner hyphens allowed), lower-cased', () => {
    expect(namePrefix(' Oleg ')).toBe('oleg');
    expect(namePrefix('MÜLLER')).toBe('müller');
    expect(namePrefix('Anna-M')).toBe('anna-m');
    expect(namePrefix('ol')).toBe('ol');
  });

  it.each(['o', 'oleg petrov', 'oleg@example.com', 'oleg2', '5550100', 'anna-', '-anna', "o'brien", 'a_b', 'ol%', '', 'x'.repeat(101)])(
    'leaves %j to the full-text search',
    (input) => {
      expect(namePrefix(input)).toBeUndefined();
    },
  );
});
