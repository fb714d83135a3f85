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
