/**
 * What the re-authentication screen shows: the form (who confirms, for whom,
 * which field is in error) and the refusals in words. Only presentation: the
 * decisions are in reauth.ts and the policies it calls.
 */
import type { Context } from 'koa';
import type { Store } from '../../accounts/entities/index.js';
import { issueCsrfToken } from '../http/csrf.js';
import type { InteractionKit } from './interaction-kit.js';

export const REFUSALS: Record<string, string> = {
  no_permission: 'You do not have permission to log in on behalf of customers of this store.',
  agent_inactive: 'Only active support staff can log in on behalf of customers.',
  unknown_target: 'This customer account does not exist.',
  target_other_store: 'This customer does not belong to this store.',
  privileged_target: 'Login on behalf is for customers: staff and admin accounts cannot be acted for.',
  target_not_customer: 'Login on behalf is for customer accounts only.',
  target_inactive: 'This customer account is disabled.',
  self_target: 'You cannot log in on behalf of yourself.',
  second_factor_required:
    'Login on behalf requires a second factor (an authenticator app), and your account has none. Ask an administrator to enrol you.',
  session_limit: 'You already have as many on-behalf sessions running as allowed. End one of them, then start again.',
  customer_refuses: 'This customer does not allow support staff to act on their behalf.',
  approval_denied: 'The customer denied your request to act on their behalf.',
  approval_expired: 'The customer did not answer your request in time. Start again to ask once more.',
};

export const INVALID_CREDENTIALS = 'Invalid email or password.';

/** The field a message is about: the form focuses it and ties the message to it (aria-describedby). */
export type FormField = 'email' | 'password' | 'reason';

/** The staff member the browser is signed in to Behalf as: the screen names them instead of asking. */
export interface ConfirmingAgent {
  name: string;
  username: string;
}

export interface FormState {
  /** Who confirms; absent: the email field is shown (nobody signed in, or "Not you?"). */
  agent?: ConfirmingAgent;
  /** The password was already checked in this interaction: only the reason is missing. */
  passwordConfirmed?: boolean;
  email?: string;
  reason?: string;
  ticket?: string;
  error?: { field: FormField; message: string };
}

export function reauthView(kit: Pick<InteractionKit, 'html'>, secureCookies: boolean) {
  return {
    form(
      ctx: Context,
      uid: string,
      facts: { store: Store; target: { displayName: string; email: string | null }; approvalNeeded?: boolean },
      state: FormState = {},
      status = 200,
    ) {
      const field = state.error?.field ?? (state.passwordConfirmed ? 'reason' : state.agent ? 'password' : 'email');
      kit.html(ctx, status, 'reauth', {
        title: 'Login on behalf',
        uid,
        customerName: facts.target.displayName,
        customerEmail: facts.target.email,
        storeName: facts.store.name,
        approvalNeeded: facts.approvalNeeded ?? false,
        csrf: issueCsrfToken(ctx, secureCookies),
        agent: state.agent,
        passwordConfirmed: state.passwordConfirmed ?? false,
        email: state.email ?? '',
        reason: state.reason ?? '',
        ticket: state.ticket ?? '',
        error: state.error?.message,
        errorField: state.error?.field,
        focus: field,
      });
    },

    refuse(
      ctx: Context,
      uid: string,
      clientName: string,
      reason: string,
      message: string,
      options: { agentSessionsUrl?: string; otherAgent?: boolean } = {},
    ) {
      kit.html(ctx, 403, 'refused', {
        title: 'Login on behalf refused',
        message,
        reason,
        uid,
        clientName,
        csrf: issueCsrfToken(ctx, secureCookies),
        sessionsUrl: reason === 'session_limit' ? options.agentSessionsUrl : undefined,
        otherAgent: options.otherAgent ?? false,
      });
    },
  };
}
