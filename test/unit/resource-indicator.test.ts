/** One normalisation for resource indicators (RFC 8707), used for every comparison. */
import { normaliseResourceIndicator, ResourceIndicatorError } from '../../src/server/clients/resource-indicator.js';

describe('normaliseResourceIndicator', () => {
  it('gives an origin-only URL without its trailing slash, with or without one given', () => {
    expect(normaliseResourceIndicator('http://localhost:4003')).toBe('http://localhost:4003');
    expect(normaliseResourceIndicator('http://localhost:4003/')).toBe('http://localhost:4003');
    expect(normaliseResourceIndicator('https://api.example.com')).toBe('https://api.example.com');
  });

  it('normalises case of scheme and host and drops a default port', () => {
    expect(normaliseResourceIndicator('HTTPS://API.Example.COM:443/')).toBe('https://api.example.com');
    expect(normaliseResourceIndicator('http://localhost:80')).toBe('http://localhost');
  });

  it('treats an empty query like no query', () => {
    expect(normaliseResourceIndicator('http://localhost:4003/?')).toBe('http://localhost:4003');
    expect(normaliseResourceIndicator('http://localhost:4003?')).toBe('http://localhost:4003');
  });

  it('keeps a path (and its trailing slash) and a query as given', () => {
    expect(normaliseResourceIndicator('https://api.example.com/orders')).toBe('https://api.example.com/orders');
    expect(normaliseResourceIndicator('https://api.example.com/orders/')).toBe('https://api.example.com/orders/');
    expect(normaliseResourceIndicator('https://api.example.com/?tenant=a')).toBe('https://api.example.com/?tenant=a');
  });

  it('accepts non-HTTP absolute URIs', () => {
    expect(normaliseResourceIndicator('urn:example:orders')).toBe('urn:example:orders');
  });

  it.each([
    ['a relative reference', 'orders'],
    ['an empty string', ''],
    ['a fragment (RFC 8707 §2)', 'https://api.example.com/#x'],
    ['an empty fragment', 'https://api.example.com/#'],
    ['credentials', 'https://user:pw@api.example.com'],
  ])('refuses %s', (_label, value) => {
    expect(() => normaliseResourceIndicator(value)).toThrow(ResourceIndicatorError);
  });

  it('keeps the error message short for huge input', () => {
    try {
      normaliseResourceIndicator('x'.repeat(10_000));
      throw new Error('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(ResourceIndicatorError);
      expect((error as Error).message.length).toBeLessThan(300);
    }
  });
});
