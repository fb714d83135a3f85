/** Option-value parsers: a bad value becomes commander's one-line "invalid argument" error. */
import { InvalidArgumentError } from 'commander';

export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number < min || number > max)
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return number;
  };
}

export function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('must be an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('must be an http:// or https:// URL');
  return value;
}

/** Same rule as the database's CHECK on store.slug, so the error comes before the INSERT. */
export function storeSlug(value: string): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(value) || value.length > 64)
    throw new InvalidArgumentError('must be lower-case letters, digits and dashes (at most 64), e.g. "electronics"');
  return value;
}

export function email(value: string): string {
  if (!/^[^\s@]+@[^\s@]+$/.test(value) || value.length > 320) throw new InvalidArgumentError('must be an email address');
  return value;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** A duration as `90`, `30s`, `15m`, `24h` or `7d`, in whole seconds from `min` to `max`. */
export function duration(min: number, max: number): (value: string) => number {
  return (value) => {
    const match = /^(\d{1,9})([smhd]?)$/.exec(value);
    const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2] || 's']! : NaN;
    if (!(seconds >= min && seconds <= max))
      throw new InvalidArgumentError(`must be a duration such as 30s, 15m, 24h or 7d, from ${min} to ${max} seconds`);
    return seconds;
  };
}
