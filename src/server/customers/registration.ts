/**
 * Self-registration for a store's customers (off unless the store turns it
 * on) and the email verification that follows it. A new account cannot sign
 * in until its address is confirmed. Registering an address that already has
 * an account answers exactly like a new one (no enumeration) and changes nothing.
 */
import type { DataSource } from 'typeorm';
import type { AccountService } from '../../accounts/account-service.js';
import type { AccountTokens } from '../../accounts/account-tokens.js';
import { assertAcceptablePassword } from '../../accounts/passwords.js';
import type { Store } from '../../accounts/entities/index.js';
import type { AuditService } from '../audit-trail/audit-service.js';
import type { RequestMeta } from '../audit-trail/request-meta.js';
import { recordedUsername } from '../audit-trail/recorded-username.js';
import type { MailOutbox } from '../mail/outbox.js';
import { RESET_ANSWER_FLOOR_MS } from './password-reset.js';

export interface RegistrationDeps {
  dataSource: DataSource;
  accounts: AccountService;
  tokens: AccountTokens;
  audit: AuditService;
  mail: MailOutbox;
  issuer: string;
  ttlSeconds: number;
}

export class Registration {
  constructor(private readonly deps: RegistrationDeps) {}

  /** Whether the store takes self-registrations (`stores set-policy --self-registration`). */
  async open(storeId: string): Promise<boolean> {
    const [row] = (await this.deps.dataSource.query(`SELECT self_registration FROM store WHERE id = $1`, [storeId])) as {
      self_registration: boolean;
    }[];
    return row?.self_registration === true;
  }

  /** Whether the account still waits for its address to be confirmed (it cannot sign in until then). */
  async unverified(accountId: string): Promise<boolean> {
    const [row] = (await this.deps.dataSource.query(
      `SELECT 1 FROM account a WHERE a.id = $1 AND a.email_verified_at IS NULL
          AND EXISTS (SELECT 1 FROM account_token t WHERE t.account_id = a.id AND t.purpose = 'email_verification')`,
      [accountId],
    )) as unknown[];
    return row !== undefined;
  }

  async register(store: Store, input: { email: string; name: string; password: string }, meta: RequestMeta & { clientId: string }) {
    assertAcceptablePassword(input.password);
    const started = Date.now();
    try {
      const existing = await this.deps.accounts.findByUsername(store.id, input.email);
      await this.deps.dataSource.transaction(async (manager) => {
        const event = { clientId: meta.clientId, ip: meta.ip, userAgent: meta.userAgent };
        if (existing) {
          await this.deps.audit.record(
            {
              type: 'auth.registered',
              ...event,
              actor: null,
              subject: existing.id,
              details: { outcome: 'already_registered', store_id: store.id, ...recordedUsername(input.email) },
            },
            manager,
          );
          return;
        }
        const account = await this.deps.accounts.create(
          {
            username: input.email,
            email: input.email,
            displayName: input.name,
            password: input.password,
            storeId: store.id,
            roles: ['customer'],
          },
          manager,
        );
        const token = await this.deps.tokens.issue(manager, account.id, 'email_verification', this.deps.ttlSeconds);
        await this.deps.mail.enqueue(manager, {
          to: input.email,
          template: 'email_verification',
          data: { name: input.name, storeName: store.name, link: `${this.deps.issuer}/verify-email/${token}` },
        });
        await this.deps.audit.record(
          {
            type: 'auth.registered',
            ...event,
            actor: account.id,
            subject: account.id,
            details: { outcome: 'created', store_id: store.id },
          },
          manager,
        );
      });
    } finally {
      const left = RESET_ANSWER_FLOOR_MS - (Date.now() - started);
      if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    }
  }

  async verify(token: string, meta: RequestMeta): Promise<boolean> {
    return this.deps.dataSource.transaction(async (manager) => {
      const accountId = await this.deps.tokens.consume(manager, token, 'email_verification');
      if (!accountId) return false;
      await manager.query(`UPDATE account SET email_verified_at = now() WHERE id = $1`, [accountId]);
      await this.deps.audit.record(
        {
          type: 'auth.email_verified',
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
