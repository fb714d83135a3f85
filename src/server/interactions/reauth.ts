/**
 * The login-on-behalf re-authentication screen: the agent confirms who they
 * are, for whom, and why. A success is recorded (agent, customer, reason,
 * ticket, time, client) and bound to the agent's next access token through a
 * fresh grant; every refusal is shown on the screen and audited, with the
 * agent as actor once known.
 *
 * An agent already signed in to Behalf is named on the screen ("Confirming
 * as Sam Support — not you?") and asked only for the password, reason and
 * ticket; what can be refused before the password is (permission, the
 * per-agent session limit). A right password with the reason missing is
 * remembered for this interaction (server-side, like the second factor's
 * pending state), so the agent adds the reason without typing it again.
 */
import type { Context } from 'koa';
import type { AccountService } from '../../accounts/account-service.js';
import type { StoreService } from '../../accounts/store-service.js';
import type { Store } from '../../accounts/entities/index.js';
import { TokenExchangeError } from '../../token-exchange/errors.js';
import { checkAgent, checkSessionLimit, checkTarget } from '../../token-exchange/on-behalf-policy.js';
import type { AuditService } from '../audit-trail/audit-service.js';
import { requestMeta } from '../audit-trail/request-meta.js';
import { recordedUsername } from '../audit-trail/recorded-username.js';
import type { InteractionDetails, OidcPort } from '../oidc/port.js';
import type { InteractionKit } from './interaction-kit.js';
import type { OnBehalfRepository } from '../on-behalf/on-behalf-repository.js';
import { accountDirectory } from '../exchange-adapters/account-directory.js';
import type { RateLimits } from '../http/rate-limits.js';
import { issueCsrfToken } from '../http/csrf.js';
import { signInSucceeded, signInThrottled } from './throttle.js';
import type { TotpService } from '../../accounts/totp-service.js';
import type { SecondFactorPending, Pending } from './second-factor-pending.js';
import { PASSWORD_AND_OTP, secondFactorStep, TOO_MANY_CODES } from './second-factor.js';
import { INVALID_CREDENTIALS, REFUSALS, reauthView, type ConfirmingAgent, type FormState } from './reauth-view.js';
import { waitingPage, type ApprovalGate } from './reauth-approval.js';

type Details = InteractionDetails;

export type { InteractionKit } from './interaction-kit.js';

export interface ReauthDependencies {
  oidc: OidcPort;
  accounts: AccountService;
  stores: StoreService;
  audit: AuditService;
  onBehalf: OnBehalfRepository;
  limits: RateLimits;
  totp: TotpService;
  pending: SecondFactorPending;
  /** `security.requireSecondFactorForLoginOnBehalf`: staff without TOTP are refused here. */
  requireSecondFactorForLoginOnBehalf: boolean;
  secureCookies: boolean;
  /** `onBehalf.maxConcurrentSessions`: checked before the form once the agent is known (the exchange checks it again). */
  maxConcurrentSessions: number;
  /** `onBehalf.agentSessionsUrl`: where agents see and end their own sessions; the limit's refusal links to it. */
  agentSessionsUrl?: string;
  /** The customer's access policy and approvals (absent: every customer allows support without asking). */
  approvals?: ApprovalGate;
}

export function reauthScreen(deps: ReauthDependencies, kit: InteractionKit) {
  const directory = accountDirectory(deps.accounts);
  const secondFactor = secondFactorStep(deps, kit);
  const view = reauthView(kit, deps.secureCookies);

  async function context(details: Details) {
    const client = await deps.oidc.findClient(String(details.params.client_id));
    const store =
      client?.kind === 'storefront' && client.store && client.onBehalf.enabled ? await deps.stores.findBySlug(client.store) : undefined;
    const target = await directory.target(String(details.params.on_behalf_of));
    return { client, clientName: client?.name ?? String(details.params.client_id), store, target };
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

  /** Checks what can be checked before the agent is known: the client and the customer. */
  async function precheck(ctx: Context, details: Details) {
    const facts = await context(details);
    if (!facts.client || !facts.store) {
      await deny(ctx, details, 'client_not_allowed', {});
      view.refuse(
        ctx,
        details.uid,
        facts.clientName,
        'client_not_allowed',
        'This application is not allowed to log in on behalf of customers.',
      );
      return undefined;
    }
    try {
      checkTarget(facts.target, facts.store.id, undefined, new Date());
    } catch (error) {
      if (!(error instanceof TokenExchangeError)) throw error;
      await deny(ctx, details, error.reason, { customerId: facts.target?.id });
      view.refuse(ctx, details.uid, facts.clientName, error.reason, REFUSALS[error.reason] ?? error.description);
      return undefined;
    }
    // The customer's say, told before the agent types anything: "never" stops here.
    const notice = deps.approvals ? await deps.approvals.notice(facts.target!.id) : undefined;
    if (notice === 'never') {
      await deny(ctx, details, 'customer_refuses', { customerId: facts.target!.id });
      view.refuse(ctx, details.uid, facts.clientName, 'customer_refuses', REFUSALS.customer_refuses!);
      return undefined;
    }
    return {
      ...facts,
      client: facts.client,
      store: facts.store as Store,
      target: facts.target!,
      approvalNeeded: notice === 'after_approval',
    };
  }

  type Facts = NonNullable<Awaited<ReturnType<typeof precheck>>>;

  /** The staff member this browser is signed in to Behalf as, unless the agent chose "Not you?". */
  async function signedInAgent(details: Details, otherChosen: boolean): Promise<(ConfirmingAgent & { id: string }) | undefined> {
    const accountId = details.sessionAccountId;
    if (!accountId || otherChosen) return undefined;
    const account = await deps.accounts.findById(accountId);
    if (!account || account.storeId !== null || account.status !== 'active') return undefined;
    return { id: account.id, name: account.displayName, username: account.username };
  }

  /**
   * The agent may act for this customer of this store, and has room for another session
   * (checked before the form when the agent is known, and after each factor, as things change).
   * Refuses on the screen and returns false otherwise.
   */
  async function agentMayProceed(
    ctx: Context,
    details: Details,
    facts: Facts,
    agentId: string,
    options: { otherAgent?: boolean } = {},
  ): Promise<boolean> {
    try {
      checkAgent(await directory.agent(agentId), facts.store.id);
      checkTarget(facts.target, facts.store.id, agentId, new Date());
      checkSessionLimit(await deps.onBehalf.countActiveSessions(agentId, new Date()), deps.maxConcurrentSessions);
      return true;
    } catch (error) {
      if (!(error instanceof TokenExchangeError)) throw error;
      await deny(ctx, details, error.reason, { agentId, customerId: facts.target.id });
      view.refuse(ctx, details.uid, facts.clientName, error.reason, REFUSALS[error.reason] ?? error.description, {
        agentSessionsUrl: deps.agentSessionsUrl,
        otherAgent: options.otherAgent,
      });
      return false;
    }
  }

  /** Records the re-authentication (with how the agent proved it: `amr`) and completes the interaction. */
  async function record(
    ctx: Context,
    details: Details,
    facts: Facts,
    input: { agentId: string; reason: string; ticket: string | null; amr: string[]; authenticatedAt?: Date; approvalId?: string },
  ) {
    const { agentId, reason, ticket, amr } = input;
    let approvalId = input.approvalId;
    if (deps.approvals && !approvalId) {
      // The customer's say, once the agent has proved who they are (customers/approval-gate.ts).
      const gate = await deps.approvals.decide({ agentId, customerId: facts.target.id, storeId: facts.store.id });
      if (gate.kind === 'refuse') {
        await deny(ctx, details, 'customer_refuses', { agentId, customerId: facts.target.id });
        return view.refuse(ctx, details.uid, facts.clientName, 'customer_refuses', REFUSALS.customer_refuses!);
      }
      if (gate.kind === 'ask') {
        const request = await deps.approvals.request(
          {
            agentId,
            customerId: facts.target.id,
            storeId: facts.store.id,
            clientId: facts.client.clientId,
            interactionUid: details.uid,
            reason,
            ticket,
            amr,
            authenticatedAt: new Date(),
          },
          requestMeta(ctx),
        );
        return wait(ctx, details, facts, request.expiresAt);
      }
      approvalId = gate.approvalId;
    }
    // A fresh grant marks this re-authentication: the agent's access token from this
    // authorization carries its id, and the exchange finds the record through it.
    const grantId = await deps.oidc.createGrant(agentId, facts.client.clientId);
    const now = input.authenticatedAt ?? new Date();
    await deps.onBehalf.createReauth(
      {
        agentId,
        targetId: facts.target.id,
        storeId: facts.store.id,
        clientId: facts.client.clientId,
        grantId,
        reason,
        ticket,
        amr,
        authenticatedAt: now,
        approvalId: approvalId ?? null,
      },
      {
        type: 'auth.login.succeeded',
        actor: agentId,
        subject: agentId,
        clientId: facts.client.clientId,
        ...requestMeta(ctx),
        details: {
          amr,
          purpose: 'login_on_behalf',
          customer: facts.target.id,
          reason,
          ticket,
          ...(approvalId ? { approval_id: approvalId } : {}),
        },
      },
    );
    // Transient: the agent's browser session ends with the browser.
    await kit.finish(ctx, {
      login: { accountId: agentId, amr, remember: false, ts: Math.floor(Date.now() / 1000) },
      consent: { grantId },
    });
  }

  function wait(ctx: Context, details: Details, facts: Facts, expiresAt: Date) {
    waitingPage(kit, ctx, {
      uid: details.uid,
      customerName: facts.target.displayName,
      storeName: facts.store.name,
      expiresAt,
      csrf: issueCsrfToken(ctx, deps.secureCookies),
    });
  }

  /** The password is right (and the agent may proceed): the second factor if enrolled, else done. */
  async function afterPassword(
    ctx: Context,
    details: Details,
    facts: Facts,
    input: { agentId: string; username: string; reason: string; ticket: string | null },
  ) {
    const { agentId, username, reason, ticket } = input;
    // The password alone is not enough for staff with TOTP: the code comes on a second step.
    if (await deps.totp.isEnrolled(agentId)) {
      return secondFactor.ask(ctx, details, agentId, {
        kind: 'reauth',
        clientId: facts.client.clientId,
        username,
        targetId: facts.target.id,
        reason,
        ticket,
      });
    }
    if (deps.requireSecondFactorForLoginOnBehalf) {
      await deny(ctx, details, 'second_factor_required', { agentId, customerId: facts.target.id });
      return view.refuse(ctx, details.uid, facts.clientName, 'second_factor_required', REFUSALS.second_factor_required!);
    }
    await record(ctx, details, facts, { agentId, reason, ticket, amr: ['pwd'] });
  }

  function readForm(ctx: Context) {
    const body = ctx.request.body as Record<string, unknown>;
    const text = (name: string, max: number) => (typeof body[name] === 'string' ? (body[name] as string).trim().slice(0, max) : '');
    return {
      email: text('email', 320),
      password: typeof body.password === 'string' && body.password.length <= 1024 ? body.password : '',
      reason: text('reason', 500),
      ticket: text('ticket', 100) || null,
      otherChosen: body.other === '1',
    };
  }

  /** A right password, the reason missing: the second submission only adds the reason. */
  async function submitReason(ctx: Context, details: Details, facts: Facts, pending: Pending) {
    const state = pending.state;
    if (state.kind !== 'reauth-reason' || state.targetId !== facts.target.id || state.clientId !== facts.client.clientId) {
      await deps.pending.end(details.uid);
      return view.form(ctx, details.uid, facts, { error: { field: 'password', message: 'Start again: enter your password.' } }, 400);
    }
    const { reason, ticket } = readForm(ctx);
    const agent = await signedInAgent(details, false);
    const shown: FormState = {
      passwordConfirmed: true,
      agent: agent ?? { name: state.username, username: state.username },
      ticket: ticket ?? '',
    };
    if (!reason) {
      await deny(ctx, details, 'missing_reason', { agentId: pending.accountId, customerId: facts.target.id });
      return view.form(
        ctx,
        details.uid,
        facts,
        { ...shown, error: { field: 'reason', message: 'Enter the reason for logging in on behalf of this customer.' } },
        400,
      );
    }
    // Consumed once: a second request racing with the same state finds nothing.
    if (!(await deps.pending.end(details.uid)))
      return view.form(ctx, details.uid, facts, { error: { field: 'password', message: 'Start again: enter your password.' } }, 400);
    if (!(await agentMayProceed(ctx, details, facts, pending.accountId))) return;
    await afterPassword(ctx, details, facts, { agentId: pending.accountId, username: state.username, reason, ticket });
  }

  return {
    async show(ctx: Context, details: Details) {
      const facts = await precheck(ctx, details);
      if (!facts) return;
      const otherChosen = ctx.query.other === '1';
      const agent = await signedInAgent(details, otherChosen);
      const pending = await deps.pending.find(details.uid);
      if (pending?.state.kind === 'reauth-reason') {
        return view.form(ctx, details.uid, facts, {
          passwordConfirmed: true,
          agent: agent ?? { name: pending.state.username, username: pending.state.username },
        });
      }
      // Known already: refuse now what would be refused after the password (no permission, the session limit).
      if (agent && !(await agentMayProceed(ctx, details, facts, agent.id, { otherAgent: true }))) return;
      view.form(ctx, details.uid, facts, { ...(agent ? { agent } : {}) });
    },

    async submit(ctx: Context, details: Details) {
      const facts = await precheck(ctx, details);
      if (!facts) return;
      const pending = await deps.pending.find(details.uid);
      if (pending?.state.kind === 'reauth-reason') return submitReason(ctx, details, facts, pending);

      const input = readForm(ctx);
      const agent = input.email ? undefined : await signedInAgent(details, input.otherChosen);
      const username = agent?.username ?? input.email;
      const shown: FormState = { ...(agent ? { agent } : { email: input.email }), reason: input.reason, ticket: input.ticket ?? '' };
      const again = (status: number, field: 'email' | 'password' | 'reason', message: string) =>
        view.form(ctx, details.uid, facts, { ...shown, error: { field, message } }, status);

      if (!username) return again(400, 'email', 'Enter your email.');
      if (!input.password) return again(400, 'password', 'Enter your password.');
      if (
        await signInThrottled(ctx, { ...deps, html: kit.html }, facts.client.clientId, username, {
          uid: details.uid,
          csrf: issueCsrfToken(ctx, deps.secureCookies),
        })
      )
        return;
      const signIn = await deps.accounts.signIn({ kind: 'backoffice' }, username, input.password);
      if (!signIn.ok) {
        await deps.audit.record({
          type: 'auth.login.failed',
          actor: signIn.accountId ?? null,
          subject: signIn.accountId ?? null,
          clientId: facts.client.clientId,
          ...requestMeta(ctx),
          details: { reason: signIn.reason, ...recordedUsername(username), purpose: 'login_on_behalf' },
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
        if (signIn.reason === 'disabled') return again(200, agent ? 'password' : 'email', 'This account is disabled.');
        return again(200, 'password', agent ? 'That password is not right.' : INVALID_CREDENTIALS);
      }
      await signInSucceeded(ctx, deps, facts.client.clientId, username);
      const agentId = signIn.account.id;
      if (!(await agentMayProceed(ctx, details, facts, agentId))) return;
      if (!input.reason) {
        // Recorded against the agent, who is now known; the password is kept for this interaction.
        await deny(ctx, details, 'missing_reason', { agentId, customerId: facts.target.id });
        await deps.pending.begin(details.uid, agentId, {
          kind: 'reauth-reason',
          clientId: facts.client.clientId,
          username,
          targetId: facts.target.id,
        });
        const confirming = agent ?? { name: signIn.account.displayName, username };
        return view.form(
          ctx,
          details.uid,
          facts,
          {
            agent: confirming,
            passwordConfirmed: true,
            ticket: input.ticket ?? '',
            error: { field: 'reason', message: 'Enter the reason for logging in on behalf of this customer.' },
          },
          400,
        );
      }
      await afterPassword(ctx, details, facts, { agentId, username, reason: input.reason, ticket: input.ticket });
    },

    /** The second step of a re-authentication: the code was right; check everything again and record it. */
    async completeWithSecondFactor(ctx: Context, details: Details, pending: Pending) {
      const facts = await precheck(ctx, details);
      if (!facts) return;
      const state = pending.state;
      // The pending state belongs to this interaction, but check it names the same customer.
      if (state.kind !== 'reauth' || state.targetId !== facts.target.id || state.clientId !== facts.client.clientId) {
        return view.form(ctx, details.uid, facts, { error: { field: 'password', message: 'Start again: enter your password.' } }, 400);
      }
      if (!(await agentMayProceed(ctx, details, facts, pending.accountId))) return;
      await record(ctx, details, facts, { agentId: pending.accountId, reason: state.reason, ticket: state.ticket, amr: PASSWORD_AND_OTP });
    },

    /**
     * The agent's waiting page (GET, reloaded by itself): still waiting, refused (denied,
     * expired), or approved: then everything is checked again and the re-authentication recorded.
     */
    async approval(ctx: Context, details: Details) {
      const facts = await precheck(ctx, details);
      if (!facts) return;
      const request = deps.approvals ? await deps.approvals.forInteraction(details.uid) : undefined;
      if (!request || request.customerId !== facts.target.id || request.clientId !== facts.client.clientId) {
        return view.form(ctx, details.uid, facts, { error: { field: 'password', message: 'Start again: enter your password.' } }, 400);
      }
      if (request.status === 'pending') return wait(ctx, details, facts, request.expiresAt);
      if (request.status !== 'approved') {
        const reason = request.status === 'denied' ? 'approval_denied' : 'approval_expired';
        await deny(ctx, details, reason, { agentId: request.agentId, customerId: facts.target.id });
        return view.refuse(ctx, details.uid, facts.clientName, reason, REFUSALS[reason]!);
      }
      if (!(await agentMayProceed(ctx, details, facts, request.agentId))) return;
      await record(ctx, details, facts, {
        agentId: request.agentId,
        reason: request.reason,
        ticket: request.ticket,
        amr: request.amr,
        authenticatedAt: request.authenticatedAt,
        approvalId: request.id,
      });
    },

    /** Too many wrong codes: the re-auth form again, with what the agent typed but the password. */
    async restart(ctx: Context, details: Details, state: { username: string; reason: string; ticket: string | null }) {
      const facts = await precheck(ctx, details);
      if (!facts) return;
      const agent = await signedInAgent(details, false);
      view.form(ctx, details.uid, facts, {
        ...(agent ? { agent } : { email: state.username }),
        reason: state.reason,
        ticket: state.ticket ?? '',
        error: { field: 'password', message: TOO_MANY_CODES },
      });
    },
  };
}
