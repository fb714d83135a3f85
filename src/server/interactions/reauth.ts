/**
 * The login-on-behalf re-authentication screen: the agent confirms who they
 * are, for whom, and why. A success is recorded (agent, customer, reason,
 * ticket, time, client) and bound to the agent's next access token through a
 * fresh grant; every refusal is shown on the screen and audited.
 */
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { AccountService } from '../../accounts/account-service.js';
import type { StoreService } from '../../accounts/store-service.js';
import type { Store } from '../../accounts/entities/index.js';
import { TokenExchangeError } from '../../token-exchange/errors.js';
import { checkAgent, checkTarget } from '../../token-exchange/impersonation-policy.js';
import type { AuditService } from '../audit/audit-service.js';
import { requestMeta } from '../audit/request-meta.js';
import { recordedUsername } from '../audit/recorded-username.js';
import { issueCsrfToken } from '../http/csrf.js';
import { behalfClient } from '../oidc/client-metadata.js';
import type { PostgresOnBehalfStore } from '../on-behalf/on-behalf-store.js';
import { accountDirectory } from '../token-exchange/account-directory.js';
import type { RateLimits } from '../http/rate-limits.js';
import { signInThrottled } from './throttle.js';
import type { TotpService } from '../../accounts/totp-service.js';
import type { SecondFactorPending, Pending } from './second-factor-pending.js';
import { PASSWORD_AND_OTP, secondFactorStep, TOO_MANY_CODES } from './second-factor.js';

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface InteractionKit {
  html(ctx: Context, status: number, template: string, data: Record<string, unknown> & { title: string }): void;
  finish(ctx: Context, result: InteractionResults): Promise<void>;
}

export interface ReauthDependencies {
  provider: () => Provider;
  accounts: AccountService;
  stores: StoreService;
  audit: AuditService;
  onBehalf: PostgresOnBehalfStore;
  limits: RateLimits;
  totp: TotpService;
  pending: SecondFactorPending;
  /** `security.requireSecondFactorForLoginOnBehalf`: staff without TOTP are refused here. */
  requireSecondFactorForLoginOnBehalf: boolean;
  secureCookies: boolean;
}

const REFUSALS: Record<string, string> = {
  no_permission: 'You do not have permission to log in on behalf of customers of this store.',
  agent_inactive: 'Only active support staff can log in on behalf of customers.',
  unknown_target: 'This customer account does not exist.',
  target_other_store: 'This customer does not belong to this store.',
  privileged_target: 'Staff and admin accounts cannot be impersonated.',
  target_not_customer: 'Only customer accounts can be impersonated.',
  target_inactive: 'This customer account is disabled or locked.',
  self_target: 'You cannot log in on behalf of yourself.',
  second_factor_required: 'Login on behalf requires a second factor (an authenticator app), and your account has none. Ask an administrator to enrol you.',
};

const INVALID_CREDENTIALS = 'Invalid email or password.';

export function reauthScreen(deps: ReauthDependencies, kit: InteractionKit) {
  const directory = accountDirectory(deps.accounts);
  const secondFactor = secondFactorStep(deps, kit);

  async function context(details: Details) {
    const client = await deps.provider().Client.find(String(details.params.client_id));
    const view = client ? behalfClient(client) : undefined;
    const store = view?.kind === 'storefront' && view.store && view.onBehalf ? await deps.stores.findBySlug(view.store) : undefined;
    const target = await directory.target(String(details.params.on_behalf_of));
    return { client, clientName: client?.clientName ?? String(details.params.client_id), store, target };
  }

  async function deny(ctx: Context, details: Details, reason: string, facts: { agentId?: string; customerId?: string }) {
    await deps.audit.record({
      type: 'on_behalf.denied',
      actor: facts.agentId ?? `client:${String(details.params.client_id)}`,
      subject: facts.customerId ?? null,
      clientId: String(details.params.client_id),
      ...requestMeta(ctx),
      details: { reason, stage: 'reauthentication' },
    });
  }

  function refuse(ctx: Context, details: Details, clientName: string, message: string) {
    kit.html(ctx, 403, 'refused', { title: 'Login on behalf refused', message, uid: details.uid, clientName, csrf: issueCsrfToken(ctx, deps.secureCookies) });
  }

  /** Checks what can be checked before the agent is known: the client and the customer. */
  async function precheck(ctx: Context, details: Details) {
    const facts = await context(details);
    if (!facts.client || !facts.store) {
      await deny(ctx, details, 'client_not_allowed', {});
      refuse(ctx, details, facts.clientName, 'This application is not allowed to log in on behalf of customers.');
      return undefined;
    }
    try {
      checkTarget(facts.target, facts.store.id, undefined, new Date());
    } catch (error) {
      if (!(error instanceof TokenExchangeError)) throw error;
      await deny(ctx, details, error.reason, { customerId: facts.target?.id });
      refuse(ctx, details, facts.clientName, REFUSALS[error.reason] ?? error.description);
      return undefined;
    }
    return { ...facts, client: facts.client, store: facts.store as Store, target: facts.target! };
  }

  function form(ctx: Context, details: Details, facts: { clientName: string; store: Store; target: { displayName: string; email: string | null } }, status = 200, fields: Record<string, string | undefined> = {}) {
    kit.html(ctx, status, 'reauth', {
      title: 'Login on behalf',
      uid: details.uid,
      customerName: facts.target.displayName,
      customerEmail: facts.target.email,
      storeName: facts.store.name,
      csrf: issueCsrfToken(ctx, deps.secureCookies),
      ...fields,
    });
  }

  type Facts = NonNullable<Awaited<ReturnType<typeof precheck>>>;

  /** The agent may act for this customer of this store (checked after each factor, as things change). */
  async function checkAgentAndTarget(ctx: Context, details: Details, facts: Facts, agentId: string, again: (status: number, error: string) => void): Promise<boolean> {
    try {
      checkAgent(await directory.agent(agentId), facts.store.id);
      checkTarget(facts.target, facts.store.id, agentId, new Date());
      return true;
    } catch (error) {
      if (!(error instanceof TokenExchangeError)) throw error;
      await deny(ctx, details, error.reason, { agentId, customerId: facts.target.id });
      again(403, REFUSALS[error.reason] ?? error.description);
      return false;
    }
  }

  /** Records the re-authentication (with how the agent proved it: `amr`) and completes the interaction. */
  async function record(ctx: Context, details: Details, facts: Facts, input: { agentId: string; reason: string; ticket: string | null; amr: string[] }) {
    const { agentId, reason, ticket, amr } = input;
    // A fresh grant marks this re-authentication: the agent's access token from this
    // authorization carries its id, and the exchange finds the record through it.
    const provider = deps.provider();
    const grant = new provider.Grant({ accountId: agentId, clientId: facts.client.clientId });
    grant.addOIDCScope('openid');
    const grantId = await grant.save();
    const now = new Date();
    await deps.onBehalf.createReauth(
      { agentId, targetId: facts.target.id, storeId: facts.store.id, clientId: facts.client.clientId, grantId, reason, ticket, amr, authenticatedAt: now },
      {
        type: 'auth.login.succeeded',
        actor: agentId,
        subject: agentId,
        clientId: facts.client.clientId,
        ...requestMeta(ctx),
        details: { amr, purpose: 'login_on_behalf', customer: facts.target.id, reason, ticket },
      },
    );
    // Transient: the agent's browser session ends with the browser.
    await kit.finish(ctx, { login: { accountId: agentId, amr, remember: false, ts: Math.floor(now.getTime() / 1000) }, consent: { grantId } });
  }

  return {
    async show(ctx: Context, details: Details) {
      const facts = await precheck(ctx, details);
      if (facts) form(ctx, details, facts);
    },

    async submit(ctx: Context, details: Details) {
      const facts = await precheck(ctx, details);
      if (!facts) return;
      const body = ctx.request.body as Record<string, unknown>;
      const text = (name: string, max: number) => (typeof body[name] === 'string' ? (body[name] as string).trim().slice(0, max) : '');
      const email = text('email', 320);
      const password = typeof body.password === 'string' && body.password.length <= 1024 ? body.password : '';
      const reason = text('reason', 500);
      const ticket = text('ticket', 100) || null;
      const again = (status: number, error: string) => form(ctx, details, facts, status, { error, email, reason, ticket: ticket ?? '' });

      if (!email || !password) return again(400, 'Enter your email and password.');
      if (!reason) {
        await deny(ctx, details, 'missing_reason', { customerId: facts.target.id });
        return again(400, 'Enter the reason for logging in on behalf of this customer.');
      }
      if (await signInThrottled(ctx, { ...deps, html: kit.html }, facts.client.clientId, email)) return;
      const signIn = await deps.accounts.signIn({ kind: 'backoffice' }, email, password);
      if (!signIn.ok) {
        await deps.audit.record({
          type: 'auth.login.failed',
          actor: signIn.accountId ?? null,
          subject: signIn.accountId ?? null,
          clientId: facts.client.clientId,
          ...requestMeta(ctx),
          details: { reason: signIn.reason, ...recordedUsername(email), purpose: 'login_on_behalf' },
        });
        if (signIn.lockedUntil) {
          await deps.audit.record({
            type: 'auth.lockout',
            actor: 'system',
            subject: signIn.accountId ?? null,
            clientId: facts.client.clientId,
            ...requestMeta(ctx),
            details: { locked_until: signIn.lockedUntil.toISOString(), purpose: 'login_on_behalf' },
          });
        }
        return again(200, signIn.reason === 'disabled' ? 'This account is disabled.' : INVALID_CREDENTIALS);
      }
      const agentId = signIn.account.id;
      if (!(await checkAgentAndTarget(ctx, details, facts, agentId, again))) return;
      // The password alone is not enough for staff with TOTP: the code comes on a second step.
      if (await deps.totp.isEnrolled(agentId)) {
        return secondFactor.ask(ctx, details, agentId, { kind: 'reauth', clientId: facts.client.clientId, username: email, targetId: facts.target.id, reason, ticket });
      }
      if (deps.requireSecondFactorForLoginOnBehalf) {
        await deny(ctx, details, 'second_factor_required', { agentId, customerId: facts.target.id });
        return refuse(ctx, details, facts.clientName, REFUSALS.second_factor_required!);
      }
      await record(ctx, details, facts, { agentId, reason, ticket, amr: ['pwd'] });
    },

    /** The second step of a re-authentication: the code was right; check everything again and record it. */
    async completeWithSecondFactor(ctx: Context, details: Details, pending: Pending) {
      const facts = await precheck(ctx, details);
      if (!facts) return;
      const state = pending.state;
      // The pending state belongs to this interaction, but check it names the same customer.
      if (state.kind !== 'reauth' || state.targetId !== facts.target.id || state.clientId !== facts.client.clientId) return form(ctx, details, facts, 400, { error: 'Start again: enter your email and password.' });
      const again = (status: number, error: string) => form(ctx, details, facts, status, { error, email: state.username, reason: state.reason, ticket: state.ticket ?? '' });
      if (!(await checkAgentAndTarget(ctx, details, facts, pending.accountId, again))) return;
      await record(ctx, details, facts, { agentId: pending.accountId, reason: state.reason, ticket: state.ticket, amr: PASSWORD_AND_OTP });
    },

    /** Too many wrong codes: the re-auth form again, with what the agent typed but the password. */
    async restart(ctx: Context, details: Details, state: { username: string; reason: string; ticket: string | null }) {
      const facts = await precheck(ctx, details);
      if (facts) form(ctx, details, facts, 200, { error: TOO_MANY_CODES, email: state.username, reason: state.reason, ticket: state.ticket ?? '' });
    },
  };
}
