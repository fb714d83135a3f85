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
import { issueCsrfToken } from '../http/csrf.js';
import { behalfClient } from '../oidc/client-metadata.js';
import type { PostgresOnBehalfStore } from '../on-behalf/on-behalf-store.js';
import { accountDirectory } from '../token-exchange/account-directory.js';
import type { RateLimits } from '../http/rate-limits.js';
import { signInThrottled } from './throttle.js';

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
};

const INVALID_CREDENTIALS = 'Invalid email or password.';

export function reauthScreen(deps: ReauthDependencies, kit: InteractionKit) {
  const directory = accountDirectory(deps.accounts);

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
          details: { reason: signIn.reason, username: email, purpose: 'login_on_behalf' },
        });
        return again(200, signIn.reason === 'disabled' ? 'This account is disabled.' : INVALID_CREDENTIALS);
      }
      const agentId = signIn.account.id;
      try {
        checkAgent(await directory.agent(agentId), facts.store.id);
        checkTarget(facts.target, facts.store.id, agentId, new Date());
      } catch (error) {
        if (!(error instanceof TokenExchangeError)) throw error;
        await deny(ctx, details, error.reason, { agentId, customerId: facts.target.id });
        return again(403, REFUSALS[error.reason] ?? error.description);
      }

      // A fresh grant marks this re-authentication: the agent's access token from this
      // authorization carries its id, and the exchange finds the record through it.
      const provider = deps.provider();
      const grant = new provider.Grant({ accountId: agentId, clientId: facts.client.clientId });
      grant.addOIDCScope('openid');
      const grantId = await grant.save();
      const now = new Date();
      await deps.onBehalf.createReauth(
        { agentId, targetId: facts.target.id, storeId: facts.store.id, clientId: facts.client.clientId, grantId, reason, ticket, amr: ['pwd'], authenticatedAt: now },
        {
          type: 'auth.login.succeeded',
          actor: agentId,
          subject: agentId,
          clientId: facts.client.clientId,
          ...requestMeta(ctx),
          details: { amr: ['pwd'], purpose: 'login_on_behalf', customer: facts.target.id, reason, ticket },
        },
      );
      // Transient: the agent's browser session ends with the browser.
      await kit.finish(ctx, { login: { accountId: agentId, amr: ['pwd'], remember: false, ts: Math.floor(now.getTime() / 1000) }, consent: { grantId } });
    },
  };
}
