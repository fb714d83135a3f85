import { jest } from '@jest/globals';
import { onceEvery } from '../../src/server/observability/once-every.js';

afterEach(() => jest.useRealTimers());

it('emits the first occurrence at once, then one line per interval with the count in between', () => {
  jest.useFakeTimers({ now: 1_000_000 });
  const lines: [number, string][] = [];
  const failed = onceEvery(10_000, (count: number, what: string) => lines.push([count, what]));
  failed('a');
  failed('b');
  failed('c');
  expect(lines).toEqual([[1, 'a']]);
  jest.setSystemTime(1_000_000 + 10_000);
  failed('d');
  expect(lines).toEqual([
    [1, 'a'],
    [3, 'd'],
  ]);
});
