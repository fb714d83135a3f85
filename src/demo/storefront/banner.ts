/**
 * What the on-behalf banner says: who acts for whom, why, and how long is
 * left, with a warning in the last minutes so the agent is not cut off
 * mid-task without notice. Pure: the page renders it, tests check it.
 */
import type { OnBehalfUser } from './browser-sessions.js';

/** From this many minutes before the end, the banner warns. */
export const WARN_MINUTES = 5;

export interface Banner {
  agentName: string;
  customerName: string;
  reason?: string;
  ticket?: string;
  /** Whole minutes left, rounded up (a session with 30 s left has "1 min" left); absent when unknown. */
  minutesLeft?: number;
  endingSoon: boolean;
}

/**
 * When the agent's access ends: the session's end, or the actor token's (it cannot be renewed:
 * that is what the re-authentication is for), whichever comes first.
 */
export function onBehalfEndsAt(user: OnBehalfUser): number {
  return Math.min(user.sessionEndsAt ?? Number.POSITIVE_INFINITY, user.actor.expiresAt);
}

export function bannerFor(user: OnBehalfUser, now = Date.now()): Banner {
  const endsAt = onBehalfEndsAt(user);
  const minutesLeft = Number.isFinite(endsAt) ? Math.max(0, Math.ceil((endsAt - now) / 60_000)) : undefined;
  return {
    agentName: user.agentName,
    customerName: user.customerName,
    ...(user.reason ? { reason: user.reason } : {}),
    ...(user.ticket ? { ticket: user.ticket } : {}),
    ...(minutesLeft !== undefined ? { minutesLeft } : {}),
    endingSoon: minutesLeft !== undefined && minutesLeft <= WARN_MINUTES,
  };
}
