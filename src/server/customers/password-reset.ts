/**
 * Password reset by emailed link. A request names a store and an email; the
 * answer is the same whether or not such a customer exists (no enumeration),
 * and takes at least the same time. For a known, active customer, a token and
 * the mail are written in one transaction with the audit record; the mail
 * leaves through the outbox. Completing it uses the token once, sets the
 * password, ends the lockout, and is audited.
 */
import type { DataSource } from 'typeorm';
import type { AccountService } from '../../accounts/account-service.js';
import type { AccountTokens } from '../../accounts/account-tokens.js';
import { assertAcceptablePassword, hashPassword } from '../../accounts/passwords.js';
import type { Store } from '../../accounts/entities/index.js';
import type { AuditService } from '../audit-trail/audit-service.js';
import type { RequestMeta } from '../audit-trail/request-meta.js';
import { recordedUsername } from '../audit-trail/recorded-username.js';
import type { MailOutbox } from '../mail/outbox.js';

/** Every request answers after at least this long, known email or not. */
export const RESET_ANSWER_FLOOR_MS = 400;

export interface PasswordResetDeps {
  dataSource: DataSource;
  accounts: AccountService;
  tokens: AccountTokens;
  audit: AuditService;
  mail: MailOutbox;
  issuer: string;
  ttlSeconds: number;
  bcryptCost: number;
}

export class PasswordReset {
  constructor(private readonly deps: PasswordResetDeps) {}

  /** Sends a link if `email` is an active customer of `store`; says nothing about which. */
  async request(store: Store, email: string, meta: RequestMeta & { clientId: string }): Promise<void> {
    const started = Date.now();
    try {
      const account = await this.deps.accounts.findByUsername(store.id, email);
      const usable = account && account.status !== 'disabled' && account.roles.includes('customer') && account.email;
      await this.deps.dataSource.transaction(async (manager) => {
        if (!usable) {
          await this.deps.audit.record(
            {
              type: 'auth.password_reset.requested',
              actor: null,
              subject: null,
              clientId: meta.clientId,
              ip: meta.ip,
              userAgent: meta.userAgent,
              details: { outcome: 'no_such_customer', store_id: store.id, ...recordedUsername(email) },
            },
            manager,
          );
          return;
        }
        const token = await this.deps.tokens.issue(manager, account.id, 'password_reset', this.deps.ttlSeconds);
        await this.deps.mail.enqueue(manager, {
          to: account.email!,
          template: 'password_reset',
          data: {
            name: account.displayName,
            storeName: store.name,
            link: `${this.deps.issuer}/password-reset/${token}`,
            minutes: Math.round(this.deps.ttlSeconds / 60),
          },
        });
        await this.deps.audit.record(
          {
            type: 'auth.password_reset.requested',
            actor: account.id,
            subject: account.id,
            clientId: meta.clientId,
            ip: meta.ip,
            userAgent: meta.userAgent,
            details: { outcome: 'mail_queued', store_id: store.id },
          },
          manager,
        );
      });
    } finally {
      const left = RESET_ANSWER_FLOOR_MS - (Date.now() - started);
      if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    }
  }

  /** Whether a reset link can still be used (to show the form or say it expired). */
  async usable(token: string): Promise<boolean> {
    return (await this.deps.tokens.peek(token, 'password_reset')) !== undefined;
  }

  /**
   * Sets the new password with the link, once. Throws PasswordPolicyError for an unacceptable
   * password (the link stays usable); returns false when the link is unknown, used or expired.
   */
  async complete(token: string, password: string, meta: RequestMeta): Promise<boolean> {
    assertAcceptablePassword(password);
    const passwordHash = await hashPassword(password, this.deps.bcryptCost);
    return this.deps.dataSource.transaction(async (manager) => {
      const accountId = await this.deps.tokens.consume(manager, token, 'password_reset');
      if (!accountId) return false;
      const [row] = (await manager.query(
        `WITH changed AS (
           UPDATE account SET password_hash = $2, password_changed_at = now(), failed_login_count = 0, locked_until = NULL
            WHERE id = $1 AND status <> 'disabled' RETURNING id
         ) SELECT id FROM changed`,
        [accountId, passwordHash],
      )) as { id: string }[];
      if (!row) return false;
      await this.deps.audit.record(
        {
          type: 'auth.password_reset.completed',
          actor: accountId,
          subject: accountId,
          clientId: null,
          ip: meta.ip,
          userAgent: meta.userAgent,
          details: {},
        },
        manager,
      );
      return true;
    });
  }
}
