/** Who must use PKCE: every client, except a confidential one that opted out; a public client never may. */
import { pkceOptionalProblem, pkceRequired } from '../../src/server/oidc/pkce-policy.js';

const client = (clientAuthMethod: string | undefined, metadata: Record<string, unknown> = {}) => ({
  clientAuthMethod,
  metadata: () => metadata,
});

describe('pkceRequired', () => {
  it('requires PKCE of confidential and public clients by default', () => {
    expect(pkceRequired(client('client_secret_basic'))).toBe(true);
    expect(pkceRequired(client('private_key_jwt'))).toBe(true);
    expect(pkceRequired(client(undefined))).toBe(true);
    expect(pkceRequired(client('none'))).toBe(true);
  });

  it('lets a confidential client opt out with behalf_pkce_optional: true, and only with true', () => {
    expect(pkceRequired(client('client_secret_basic', { behalf_pkce_optional: true }))).toBe(false);
    expect(pkceRequired(client('client_secret_basic', { behalf_pkce_optional: 'true' }))).toBe(true);
    expect(pkceRequired(client('client_secret_basic', { behalf_pkce_optional: false }))).toBe(true);
  });

  it('never lets a public client opt out', () => {
    expect(pkceRequired(client('none', { behalf_pkce_optional: true }))).toBe(true);
  });
});

describe('pkceOptionalProblem', () => {
  it('accepts absence, false, and true for a confidential client', () => {
    expect(pkceOptionalProblem(undefined, 'none')).toBeUndefined();
    expect(pkceOptionalProblem(false, 'none')).toBeUndefined();
    expect(pkceOptionalProblem(true, 'client_secret_basic')).toBeUndefined();
  });

  it('refuses the opt-out for a public client, and anything but a boolean', () => {
    expect(pkceOptionalProblem(true, 'none')).toMatch(/confidential clients only/);
    expect(pkceOptionalProblem('yes', 'client_secret_basic')).toMatch(/must be a boolean/);
  });
});
