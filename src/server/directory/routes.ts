/**
 * The directory API (for the portal): contacts (people) by full-text search
 * and filters, one contact with its accounts, and the stores to filter by.
 * Staff only: a back-office token of a support or admin account that carries
 * `directory:read`. Whether the caller may log in on behalf of each account
 * is decided by the same pure policy the token exchange enforces, so the
 * portal never shows a button that the exchange would refuse for permission.
 */
import Router from '@koa/router';
import type { OidcPort } from '../oidc/port.js';
import type { AccountService } from '../../accounts/account-service.js';
import { checkAgent, checkTarget, type AgentFacts } from '../../token-exchange/on-behalf-policy.js';
import { TokenExchangeError } from '../../token-exchange/errors.js';
import { requireStaffScope } from '../admin/bearer-auth.js';
import { accountDirectory } from '../exchange-adapters/account-directory.js';
import { DirectoryParamError, parseContactId, parseContactSearch, rejectUnknown } from './directory-params.js';
import { DirectoryQuery, type DirectoryAccount } from './directory-query.js';

export const DIRECTORY_SCOPE = 'directory:read';

/**
 * Why the policy would refuse `agent` acting for `account` now (its stable reason, e.g. `no_permission`,
 * `target_inactive`, `privileged_target`), or null when it lets them (permission for its store, an
 * active customer, not themselves).
 */
function onBehalfRefusal(agent: AgentFacts | undefined, account: DirectoryAccount, now: Date): string | null {
  if (!agent) return 'agent_inactive';
  if (!account.storeId) return 'privileged_target';
  try {
    checkAgent(agent, account.storeId);
    checkTarget(
      { id: account.id, status: account.storedStatus, storeId: account.storeId, roles: account.roles },
      account.storeId,
      agent.id,
      now,
    );
    return null;
  } catch (error) {
    if (error instanceof TokenExchangeError) return error.reason;
    throw error;
  }
}

export function directoryRoutes(deps: { oidc: OidcPort; accounts: AccountService; query: DirectoryQuery }): Router {
  const router = new Router({ prefix: '/directory' });
  const agents = accountDirectory(deps.accounts);
  router.use(requireStaffScope(deps.oidc, deps.accounts, DIRECTORY_SCOPE));
  router.use(async (ctx, next) => {
    // Personal data: never cached by a browser or a proxy.
    ctx.set('Cache-Control', 'no-store');
    try {
      await next();
    } catch (error) {
      if (!(error instanceof DirectoryParamError)) throw error;
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: error.message };
    }
  });

  router.get('/contacts', async (ctx) => {
    const search = parseContactSearch(ctx.query);
    const page = await deps.query.search(search);
    ctx.body = { contacts: page.contacts, page: search.page, limit: search.limit, total: page.total, total_exact: page.totalExact };
  });

  router.get('/contacts/:id', async (ctx) => {
    rejectUnknown(ctx.query, []);
    const contact = await deps.query.contact(parseContactId(ctx.params.id));
    if (!contact) {
      ctx.status = 404;
      ctx.body = { error: 'not_found', error_description: 'no such contact' };
      return;
    }
    const agent = await agents.agent(ctx.state.staff!.account.id);
    const now = new Date();
    ctx.body = {
      id: contact.id,
      name: contact.name,
      emails: contact.emails,
      phones: contact.phones,
      accounts: contact.accounts.map((account) => {
        const refusal = onBehalfRefusal(agent, account, now);
        return {
          id: account.id,
          store: account.store,
          email: account.email,
          status: account.status,
          can_login_on_behalf: refusal === null,
          on_behalf_refusal: refusal,
        };
      }),
    };
  });

  router.get('/stores', async (ctx) => {
    rejectUnknown(ctx.query, []);
    ctx.body = { stores: await deps.query.stores() };
  });

  return router;
}
