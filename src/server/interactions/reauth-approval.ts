/**
 * The customer's say on the re-authentication screen (issue #19): what the
 * agent is told before confirming, and the page the agent waits on while the
 * customer decides. The page reloads itself every few seconds (a meta
 * refresh: the CSP allows no inline script) until the customer approves
 * (the interaction completes), denies, or the request expires.
 */
import type { Context } from 'koa';
import type { InteractionKit } from './interaction-kit.js';

export type GateDecision = { kind: 'proceed'; approvalId?: string } | { kind: 'refuse' } | { kind: 'ask' };

export interface WaitingApproval {
  id: string;
  status: 'pending' | 'approved' | 'denied' | 'expired';
  agentId: string;
  customerId: string;
  clientId: string;
  reason: string;
  ticket: string | null;
  amr: string[];
  authenticatedAt: Date;
  expiresAt: Date;
}

/** What the re-auth screen asks of the customers module (customers/approval-gate.ts). */
export interface ApprovalGate {
  /** What the customer's policy (within the store's) says to the agent before they confirm. */
  notice(customerId: string): Promise<'after_approval' | 'never' | undefined>;
  /** After the agent proved who they are: go on (with a standing approval, if one applies), wait for the customer, or stop. */
  decide(who: { agentId: string; customerId: string; storeId: string }): Promise<GateDecision>;
  /** Asks the customer (mail and storefront) and records the request. */
  request(
    input: {
      agentId: string;
      customerId: string;
      storeId: string;
      clientId: string;
      interactionUid: string;
      reason: string;
      ticket: string | null;
      amr: string[];
      authenticatedAt: Date;
    },
    meta: { ip: string | null; userAgent: string | null },
  ): Promise<WaitingApproval>;
  /** The request made from this interaction, if any (expired if its time is up). */
  forInteraction(uid: string): Promise<WaitingApproval | undefined>;
}

export const WAIT_REFRESH_SECONDS = 3;

export function waitingPage(
  kit: Pick<InteractionKit, 'html'>,
  ctx: Context,
  input: { uid: string; customerName: string; storeName: string; expiresAt: Date; csrf: string },
): void {
  kit.html(ctx, 202, 'approval-wait', {
    title: 'Waiting for the customer’s approval',
    refreshSeconds: WAIT_REFRESH_SECONDS,
    // The page may be the answer to the form's POST: it reloads its own GET address instead.
    refreshUrl: `/interaction/${input.uid}/approval`,
    uid: input.uid,
    customerName: input.customerName,
    storeName: input.storeName,
    expiresAt: `${input.expiresAt.toISOString().slice(11, 16)} UTC`,
    csrf: input.csrf,
  });
}
