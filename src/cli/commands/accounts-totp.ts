/** `accounts totp …`: enrol (or reset) and remove a staff member's second factor. */
// Server code is imported inside each action, so help stays fast (see index.ts).
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { examples } from '../output.js';
import { storeSlug } from '../parse.js';

export function registerAccountsTotp(accounts: Command, cli: CliContext): void {
  const group = accounts.command('totp').description('second factor (TOTP authenticator app) for staff: enrol, reset, disable');
  examples(group, 'accounts totp enroll support@example.com', 'accounts totp disable support@example.com');

  const enroll = group
    .command('enroll')
    .description('enrol a staff account in TOTP (again: a reset); prints the otpauth:// URI, the secret and 10 recovery codes once')
    .argument('<account>', 'staff account id or email')
    .option('--json', 'print the result as JSON')
    .action(async (reference: string, options: { json?: boolean }) => {
      const { resolveAccount } = await import('../account-lookup.js');
      const { account, enrolment, reset } = await cli.withServices(async (services) => {
        const account = await resolveAccount(services, reference);
        const reset = await services.totp.isEnrolled(account.id);
        const enrolment = await services.totp.enroll(account);
        // Nothing is printed before the audit record is committed.
        await cli.recordAdmin(services, {
          type: 'admin.account.totp_enrolled',
          subject: account.id,
          details: { username: account.username, reset },
        });
        return { account, enrolment, reset };
      });
      if (options.json)
        return cli.json({
          id: account.id,
          username: account.username,
          otpauth_uri: enrolment.uri,
          secret: enrolment.secret,
          recovery_codes: enrolment.recoveryCodes,
        });
      cli.out(
        `TOTP ${reset ? 're-enrolled (the previous secret and recovery codes no longer work)' : 'enrolled'} for ${account.username}`,
        `otpauth_uri: ${enrolment.uri}`,
        `secret: ${enrolment.secret}`,
        'recovery codes (each works once):',
        ...enrolment.recoveryCodes.map((code) => `  ${code}`),
        'These are shown only once: hand them to the account holder now (Behalf keeps the secret encrypted and only hashes of the codes).',
      );
    });
  examples(enroll, 'accounts totp enroll support@example.com', 'accounts totp enroll admin@example.com --json');

  const disable = group
    .command('disable')
    .description('remove the second factor of an account (its secret and recovery codes)')
    .argument('<account>', 'account id or email')
    .option('--store <slug>', "the account's store, when the email alone is ambiguous", storeSlug)
    .action(async (reference: string, options: { store?: string }) => {
      const [{ AccountError }, { resolveAccount }] = await Promise.all([
        import('../../accounts/account-service.js'),
        import('../account-lookup.js'),
      ]);
      const account = await cli.withServices(async (services) => {
        const account = await resolveAccount(services, reference, options.store);
        if (!(await services.totp.disable(account.id))) throw new AccountError(`${account.username} has no second factor enrolled`);
        await cli.recordAdmin(services, {
          type: 'admin.account.totp_disabled',
          subject: account.id,
          details: { username: account.username },
        });
        return account;
      });
      cli.out(`TOTP disabled for ${account.username}: it signs in with the password alone until enrolled again`);
    });
  examples(disable, 'accounts totp disable support@example.com');
}
