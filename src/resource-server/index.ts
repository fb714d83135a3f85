/**
 * The resource-server kit: verify Behalf's access tokens, know who is acting
 * for whom, refuse what must not be done on behalf, stamp CreatedBy/ModifiedBy
 * and audit every write. No dependency on Behalf's server code.
 *
 * @example
 * const verifier = createAccessTokenVerifier({ issuer: 'http://localhost:4000', audience: 'http://localhost:4003' });
 * const sessionStatus = createSessionStatusChecker({ issuer: 'http://localhost:4000', clientId: 'orders-api', clientSecret });
 * router.post('/orders', requireAuth({ verifier, scopes: ['orders:write'], sessionStatus }), placeOrder);
 */
export { createAccessTokenVerifier, type AccessTokenVerifier, type VerifierOptions, type IntrospectionOptions } from './verify.js';
export { toPrincipal, type Principal, type Actor, type AccessTokenClaims } from './principal.js';
export { createStatusListChecker, type StatusListChecker, type StatusListCheckerOptions, type StatusListOptions } from './status-list.js';
export { createSessionStatusChecker, type SessionStatusChecker, type SessionStatusOptions } from './session-status.js';
export { requireAuth, forbidOnBehalf, respondWithKitError, type RequireAuthOptions } from './koa.js';
export { currentPrincipal, runWithPrincipal } from './context.js';
export { AttributionSubscriber, AuditTrailSubscriber, type AuditTrailOptions } from './typeorm.js';
export { KitError, type KitErrorCode } from './errors.js';
export { memoryReplayStore, type DpopOptions, type ReplayStore, type Presentation } from './dpop.js';
