/**
 * A recurring failure logged once per interval, with how many times it
 * happened since the last line: an outage becomes one line every few seconds,
 * not one per request (which buries everything else).
 */
export function onceEvery<A extends unknown[]>(intervalMs: number, emit: (occurrences: number, ...args: A) => void): (...args: A) => void {
  let lastAt = Number.NEGATIVE_INFINITY;
  let occurrences = 0;
  return (...args: A) => {
    occurrences += 1;
    const now = Date.now();
    if (now - lastAt < intervalMs) return;
    lastAt = now;
    const count = occurrences;
    occurrences = 0;
    emit(count, ...args);
  };
}
