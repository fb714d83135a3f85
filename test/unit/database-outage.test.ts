/** A database outage inside oidc-provider is told apart from a bug: only the former becomes a 503. */
import { isDatabaseUnavailable } from '../../src/server/oidc/database-outage.js';

describe('isDatabaseUnavailable', () => {
  it('recognises connection failures, however they are wrapped', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(
      isDatabaseUnavailable(
        Object.assign(new Error('query failed'), {
          driverError: { code: '57P01', message: 'terminating connection due to administrator command' },
        }),
      ),
    ).toBe(true);
    expect(isDatabaseUnavailable(new Error('outer', { cause: new Error('timeout exceeded when trying to connect') }))).toBe(true);
    expect(isDatabaseUnavailable(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]))).toBe(true);
  });

  it('leaves other errors alone', () => {
    expect(isDatabaseUnavailable(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }))).toBe(
      false,
    );
    expect(isDatabaseUnavailable(undefined)).toBe(false);
    const loop: { cause?: unknown } = {};
    loop.cause = loop;
    expect(isDatabaseUnavailable(loop)).toBe(false);
  });
});
