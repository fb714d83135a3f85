/**
 * `keys …`: signing-key rotation (publish → activate → retire), the
 * key-encryption key that seals secrets at rest, and re-sealing after its rotation.
 */
import { randomBytes } from 'node:crypto';
// Server code is imported inside each action, so help stays fast (see index.ts).
import { Option, type Command } from 'commander';
import type { SigningAlg, SigningKey } from '../../server/keys/signing-key.entity.js';
import { SIGNING_ALGS } from '../choices.js';
import type { CliContext } from '../context.js';
import { examples, table, when } from '../output.js';

function asJson(key: SigningKey): Record<string, unknown> {
  return {
    kid: key.kid,
    alg: key.alg,
    status: key.status,
    created_at: key.createdAt,
    activated_at: key.activatedAt,
    retired_at: key.retiredAt,
  };
}

/**
 * A kid as a command-line argument. Kids made before `signingKeyId` may start
 * with '-', which reads as an option unless `--` comes first.
 */
export function kidArgument(kid: string): string {
  return kid.startsWith('-') ? `-- ${kid}` : kid;
}

export function registerKeys(program: Command, cli: CliContext): void {
  const group = program.command('keys').description('signing keys (ES256 access tokens, RS256 ID tokens) and the key-encryption key');
  examples(group, 'keys list', 'keys rotate --alg ES256', 'keys generate-secret');

  const list = group
    .command('list')
    .description('list signing keys and their stage: published, active (signs), inactive, retired')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const { listKeys } = await import('../../server/keys/key-store.js');
      const keys = await cli.withServices((services) => listKeys(services.dataSource));
      if (options.json) return cli.json(keys.map(asJson));
      if (keys.length === 0) return cli.out('no signing keys yet: Behalf generates an ES256 and an RS256 key on its first start');
      cli.out(
        ...table(
          ['KID', 'ALG', 'STATUS', 'CREATED', 'ACTIVATED', 'RETIRED'],
          keys.map((key) => [key.kid, key.alg, key.status, when(key.createdAt), when(key.activatedAt), when(key.retiredAt)]),
        ),
      );
    });
  examples(list, 'keys list', 'keys list --json');

  const rotate = group
    .command('rotate')
    .description('start a rotation: publish a new key in JWKS (it does not sign yet)')
    .addOption(new Option('--alg <alg>', 'which key to rotate').choices(SIGNING_ALGS).makeOptionMandatory())
    .action(async (options: { alg: SigningAlg }) => {
      const { listKeys, publishKey } = await import('../../server/keys/key-store.js');
      const { key, active } = await cli.withServices(async (services) => {
        const active = (await listKeys(services.dataSource)).find(
          (candidate) => candidate.alg === options.alg && candidate.status === 'active',
        );
        const key = await publishKey(services.dataSource, services.sealer, options.alg);
        await cli.recordAdmin(services, { type: 'admin.key.published', details: { kid: key.kid, alg: key.alg } });
        return { key, active };
      });
      cli.out(
        `published ${key.alg} key ${key.kid}: it is in JWKS now, but does not sign yet`,
        'Next steps:',
        '  1. Wait until every verifier has the new JWKS: Behalf instances poll every keys.refreshIntervalSeconds (default 5 s);',
        '     resource servers and clients refresh their JWKS caches on their own schedule (often minutes).',
        `  2. npm run cli -- keys activate ${kidArgument(key.kid)}`,
        ...(active
          ? [
              `  3. After the longest token lifetime has passed, retire the old signer: npm run cli -- keys retire ${kidArgument(active.kid)}`,
            ]
          : ['  3. After the longest token lifetime has passed, retire the previous signer with `keys retire <kid>`']),
      );
    });
  examples(rotate, 'keys rotate --alg ES256', 'keys rotate --alg RS256');

  const activate = group
    .command('activate')
    .description('make a published (or inactive) key the signer; the previous signer stays in JWKS, inactive')
    .argument('<kid>')
    .action(async (kid: string) => {
      const { activateKey, listKeys } = await import('../../server/keys/key-store.js');
      const { key, previous } = await cli.withServices(async (services) => {
        const before = await listKeys(services.dataSource);
        const target = before.find((candidate) => candidate.kid === kid);
        const previous = before.find(
          (candidate) => candidate.alg === target?.alg && candidate.status === 'active' && candidate.kid !== kid,
        );
        const key = await activateKey(services.dataSource, kid);
        await cli.recordAdmin(services, {
          type: 'admin.key.activated',
          details: { kid: key.kid, alg: key.alg, previous: previous?.kid ?? null },
        });
        return { key, previous };
      });
      cli.out(`${key.alg} key ${key.kid} is active: new tokens are signed with it (running instances switch within seconds)`);
      if (previous)
        cli.out(
          `previous signer ${previous.kid} is inactive; retire it once its tokens have expired: npm run cli -- keys retire ${kidArgument(previous.kid)}`,
        );
    });
  examples(activate, 'keys activate <kid from `keys rotate`>', 'keys activate -- <kid>   # a kid that starts with "-"');

  const retire = group
    .command('retire')
    .description('remove a key that no longer signs from JWKS (tokens it signed stop verifying)')
    .argument('<kid>')
    .action(async (kid: string) => {
      const { retireKey } = await import('../../server/keys/key-store.js');
      const key = await cli.withServices(async (services) => {
        const retired = await retireKey(services.dataSource, kid);
        await cli.recordAdmin(services, { type: 'admin.key.retired', details: { kid: retired.kid, alg: retired.alg } });
        return retired;
      });
      cli.out(`${key.alg} key ${key.kid} retired: it has left JWKS`);
    });
  examples(retire, 'keys retire <kid>', 'keys retire -- <kid>   # a kid that starts with "-"');

  const generate = group
    .command('generate-secret')
    .description('print a new random key-encryption key (32 bytes, base64url) for KEY_ENCRYPTION_KEYS; needs no database')
    .action(() => {
      cli.out(randomBytes(32).toString('base64url'));
    });
  examples(
    generate,
    'keys generate-secret',
    'KEY_ENCRYPTION_KEYS="$(npm run --silent cli -- keys generate-secret),$KEY_ENCRYPTION_KEYS"   # rotation: new key first, then `keys rewrap`',
  );

  const rewrap = group
    .command('rewrap')
    .description('re-seal client secrets, private signing keys and TOTP secrets with the first (current) key of KEY_ENCRYPTION_KEYS')
    .action(async () => {
      const { rewrapSigningKeys } = await import('../../server/keys/key-store.js');
      const { clients, keys, totp } = await cli.withServices(async (services) => ({
        clients: await services.clients.rewrap(),
        keys: await rewrapSigningKeys(services.dataSource, services.sealer),
        totp: await services.totp.rewrap(),
      }));
      cli.out(
        `re-sealed ${clients} client secret(s) and ${keys} signing key(s) with the current key-encryption key, and ${totp} TOTP secret(s)`,
      );
      cli.out('Older keys may now be removed from KEY_ENCRYPTION_KEYS (restart every instance with the new list).');
    });
  examples(rewrap, 'KEY_ENCRYPTION_KEYS=<new>,<old> npm run cli -- keys rewrap');
}
