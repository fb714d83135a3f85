/** The second-factor rule of login on behalf, and the TOTP/recovery-code helpers, without HTTP or a database. */
import { generate } from 'otplib';
import { TokenExchangeError } from '../../src/token-exchange/errors.js';
import { checkReauthFactors } from '../../src/token-exchange/on-behalf-policy.js';
import { hashRecoveryCode, newRecoveryCodes, newTotpSecret, verifyTotp } from '../../src/accounts/totp.js';

describe('checkReauthFactors', () => {
  const refusal = (amr: string[] | undefined, requireSecondFactor: boolean) => {
    try {
      checkReauthFactors({ amr }, { requireSecondFactor });
      return undefined;
    } catch (error) {
      return error instanceof TokenExchangeError ? error.reason : error;
    }
  };

  it('lets a password-only re-authentication through while the policy is off', () => {
    expect(refusal(['pwd'], false)).toBeUndefined();
    expect(refusal(undefined, false)).toBeUndefined();
  });

  it('refuses a re-authentication without otp while the policy is on', () => {
    expect(refusal(['pwd'], true)).toBe('second_factor_required');
    expect(refusal([], true)).toBe('second_factor_required');
    expect(refusal(undefined, true)).toBe('second_factor_required');
  });

  it('accepts password plus one-time code while the policy is on', () => {
    expect(refusal(['pwd', 'otp'], true)).toBeUndefined();
  });
});

describe('TOTP helpers', () => {
  const now = new Date('2026-11-24T12:00:10Z');
  const step = Math.floor(now.getTime() / 30_000);

  it('accepts the current code and its neighbours, and says which step it was', async () => {
    const { secret, uri } = newTotpSecret('sam@example.com');
    expect(uri).toMatch(/^otpauth:\/\/totp\//);
    expect(await verifyTotp(secret, await generate({ secret, epoch: step * 30 }), null, now)).toBe(step);
    expect(await verifyTotp(secret, await generate({ secret, epoch: (step - 1) * 30 }), null, now)).toBe(step - 1);
    expect(await verifyTotp(secret, await generate({ secret, epoch: (step + 5) * 30 }), null, now)).toBeUndefined();
  });

  it('refuses a step already used, and anything that is not six digits', async () => {
    const { secret } = newTotpSecret('sam@example.com');
    const code = await generate({ secret, epoch: step * 30 });
    expect(await verifyTotp(secret, code, step, now)).toBeUndefined();
    expect(await verifyTotp(secret, `${code}0`, null, now)).toBeUndefined();
    expect(await verifyTotp(secret, 'abcdef', null, now)).toBeUndefined();
  });

  it('makes ten distinct recovery codes whose hash ignores case and dashes', () => {
    const codes = newRecoveryCodes();
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
    expect(hashRecoveryCode(codes[0]!.toUpperCase().replace('-', ' '))).toBe(hashRecoveryCode(codes[0]!));
    expect(hashRecoveryCode(codes[0]!)).toMatch(/^[0-9a-f]{64}$/);
  });
});
