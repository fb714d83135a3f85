/** Signing-key ids are command-line arguments too (`keys activate <kid>`): never led by '-'. */
import { kidArgument } from '../../src/cli/commands/keys.js';
import { signingKeyId } from '../../src/server/keys/key-store.js';

describe('signingKeyId', () => {
  it('puts the alg first, so a thumbprint that starts with "-" does not lead', () => {
    const thumbprint = '-fR4lfvXFzIc1iVYSK8KA8xyzxyzxyzxyzxyzxyzxyz';
    const kid = signingKeyId('ES256', thumbprint, 'ea59f517');
    expect(kid).toBe('es256--fR4lfvXFzIc1iVYSK8KA8-ea59f517');
    expect(kid.startsWith('-')).toBe(false);
    expect(signingKeyId('RS256', 'abcdefghijklmnopqrstuvwxyz', '01234567')).toBe('rs256-abcdefghijklmnopqrstuv-01234567');
  });
});

describe('kidArgument', () => {
  it('puts -- before a kid that starts with "-", and leaves others alone', () => {
    expect(kidArgument('-fR4lfvXFzIc1iVYSK8KA8-ea59f517')).toBe('-- -fR4lfvXFzIc1iVYSK8KA8-ea59f517');
    expect(kidArgument('es256-abc-01234567')).toBe('es256-abc-01234567');
  });
});
