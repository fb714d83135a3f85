/**
 * The second step of a sign-in or a re-authentication for staff with TOTP:
 * after a correct password the interaction waits (server-side, see
 * second-factor-pending.ts) for a 6-digit code or a recovery code. Codes are
 * rate-limited like passwords, every wrong one is audited, and a few wrong
 * ones in a row send the user back to the password.
 */
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { TotpService } from '../../accounts/totp-service.js';
import type { AuditService } from '../audit/audit-service.js';
import { requestMeta } from '../audit/request-meta.js';
import { issueCsrfToken } from '../http/csrf.js';
import type { RateLimits } from '../http/rate-limits.js';
import type { InteractionKit } from './reauth.js';
import type { Pending, PendingState, SecondFactorPending } from './second-factor-pending.js';
import { signInThrottled } from './throttle.js';

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface SecondFactorDependencies {
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
      const check = await deps.totp.verify(pending.accountId, code);
      if (!check.ok) {
        await deps.audit.record({
          type: 'auth.login.failed',
          actor: pending.accountId,
          subject: pending.accountId,
          clientId: state.clientId,
          ...requestMeta(ctx),
          details: { reason: 'invalid_otp', username: state.username, ...(state.kind === 'reauth' ? { purpose: 'login_on_behalf' } : {}) },
        });
        if (await deps.pending.failed(details.uid)) return outcome.exhausted(ctx, state);
        return form(ctx, details.uid, 200, WRONG_CODE);
      }
      // Consumed once: a second request racing with the same state finds nothing.
      if (!(await deps.pending.end(details.uid))) return outcome.exhausted(ctx, state);
      return outcome.verified(ctx, pending, check.method);
    },
  };
}
