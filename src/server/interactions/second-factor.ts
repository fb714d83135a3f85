/**
 * The second step of a sign-in or a re-authentication for staff with TOTP:
 * after a correct password the interaction waits (server-side, see
 * second-factor-pending.ts) for a 6-digit code or a recovery code. Codes are
 * rate-limited like passwords, every wrong one is audited and counts toward
 * the account lockout like a wrong password (the same counter and
 * threshold), and a few wrong ones in a row send the user back to the
 * password. A locked (or no longer active) account finishes nothing here:
 * its code is not even checked.
 */
import type { Context } from 'koa';
import type { AccountService } from '../../accounts/account-service.js';
import type { TotpService } from '../../accounts/totp-service.js';
import type { AuditService } from '../audit-trail/audit-service.js';
import { requestMeta } from '../audit-trail/request-meta.js';
import { recordedUsername } from '../audit-trail/recorded-username.js';
import { issueCsrfToken } from '../http/csrf.js';
import type { RateLimits } from '../http/rate-limits.js';
import type { InteractionKit } from './interaction-kit.js';
import type { InteractionDetails } from '../oidc/port.js';
import type { Pending, PendingState, SecondFactorPending } from './second-factor-pending.js';
import { signInThrottled } from './throttle.js';

type Details = InteractionDetails;

export interface SecondFactorDependencies {
  accounts: AccountService;
  totp: TotpService;
  pending: SecondFactorPending;
  audit: AuditService;
  limits: RateLimits;
  secureCookies: boolean;
}

/** What `amr` says after both factors (RFC 8176: password, one-time password). */
export const PASSWORD_AND_OTP = ['pwd', 'otp'];

const WRONG_CODE = 'That code is not valid. Enter the current code from your authenticator app, or an unused recovery code.';
export const TOO_MANY_CODES = 'Too many wrong codes. Enter your password again.';

export interface SecondFactorOutcome {
  /** Both factors checked: complete the interaction. */
  verified(ctx: Context, pending: Pending, method: 'totp' | 'recovery_code'): Promise<void>;
  /** The attempts are used up: back to the password form. */
  exhausted(ctx: Context, state: PendingState): Promise<void>;
}

export function secondFactorStep(deps: SecondFactorDependencies, kit: Pick<InteractionKit, 'html'>) {
  function form(ctx: Context, uid: string, status = 200, error?: string) {
    kit.html(ctx, status, 'second-factor', { title: 'Two-step verification', uid, csrf: issueCsrfToken(ctx, deps.secureCookies), error });
  }

  return {
    /** The password was right and the account has TOTP: remember that, ask for the code. */
    async ask(ctx: Context, details: Details, accountId: string, state: PendingState) {
      await deps.pending.begin(details.uid, accountId, state);
      form(ctx, details.uid);
    },

    /** The pending state of this interaction, if it is waiting for a code. */
    find(details: Details) {
      return deps.pending.find(details.uid);
    },

    async submit(ctx: Context, details: Details, pending: Pending, outcome: SecondFactorOutcome) {
      const { state } = pending;
      if (await signInThrottled(ctx, { ...deps, html: kit.html }, state.clientId, state.username)) return;
      const body = ctx.request.body as Record<string, unknown>;
      const code = typeof body.code === 'string' ? body.code.slice(0, 64) : '';
      if (!code.trim()) return form(ctx, details.uid, 400, 'Enter the authentication code.');
      const purpose = state.kind === 'reauth' ? { purpose: 'login_on_behalf' } : {};
      const meta = requestMeta(ctx);
      const loginFailed = (reason: string) =>
        deps.audit.record({
          type: 'auth.login.failed',
          actor: pending.accountId,
          subject: pending.accountId,
          clientId: state.clientId,
          ...meta,
          details: { reason, ...recordedUsername(state.username), ...purpose },
        });

      // Locked since the password (by wrong codes or passwords, here or in another
      // interaction) or disabled: back to the password, which says no for itself.
      const account = await deps.accounts.findLoginState(pending.accountId);
      if (!account || account.status !== 'active' || deps.accounts.isLocked(account)) {
        await deps.pending.end(details.uid);
        await loginFailed(account?.status === 'disabled' ? 'disabled' : 'locked');
        return outcome.exhausted(ctx, state);
      }

      const check = await deps.totp.verify(pending.accountId, code);
      if (!check.ok) {
        // Counted before anything else can fail: a wrong code always costs an attempt.
        const lockedUntil = await deps.accounts.secondFactorFailed(pending.accountId);
        await loginFailed('invalid_otp');
        if (lockedUntil) {
          await deps.pending.end(details.uid);
          await deps.audit.record({
            type: 'auth.lockout',
            actor: 'system',
            subject: pending.accountId,
            clientId: state.clientId,
            ...meta,
            details: { locked_until: lockedUntil.toISOString(), ...purpose },
          });
          return outcome.exhausted(ctx, state);
        }
        if (await deps.pending.failed(details.uid)) return outcome.exhausted(ctx, state);
        return form(ctx, details.uid, 200, WRONG_CODE);
      }
      // Consumed once: a second request racing with the same state finds nothing.
      if (!(await deps.pending.end(details.uid))) return outcome.exhausted(ctx, state);
      await deps.accounts.secondFactorSucceeded(pending.accountId);
      return outcome.verified(ctx, pending, check.method);
    },
  };
}
