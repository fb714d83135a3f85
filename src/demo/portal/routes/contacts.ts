/**
 * Contacts: search and filters over Behalf's directory API, and a contact's
 * accounts with a "Login on behalf" link where Behalf says the staff member
 * may use it (and why not where it is missing), and a notice when the agent
 * already acts as one of them. The link opens the store's storefront in a new
 * tab; the storefront then runs the re-authentication and the token exchange.
 */
import Router from '@koa/router';
import { clock, listAgentSessions, timeLeft } from '../agent-sessions.js';
import { notFound, PortalError } from '../behalf-api.js';
import { loginRefusalText } from '../login-refusal.js';
import { isAdmin, param, render, requireUser, type PortalDeps } from './deps.js';
import { isUuid } from '../../../common/uuid.js';

interface Store {
  slug: string;
  name: string;
}
interface ContactSummary {
  id: string;
  name: string;
  emails: string[];
  phones: string[];
  stores: string[];
}
interface ContactPage {
  contacts: ContactSummary[];
  page: number;
  limit: number;
  total: number;
  /** False when more contacts match than Behalf counts (its cap): total is a lower bound. */
  total_exact: boolean;
}
interface ContactDetail {
  id: string;
  name: string;
  emails: string[];
  phones: string[];
  accounts: {
    id: string;
    store: Store | null;
    email: string | null;
    status: string;
    can_login_on_behalf: boolean;
    on_behalf_refusal?: string | null;
  }[];
}

const PAGE_SIZE = 20;
export const STATUSES = ['active', 'locked', 'disabled'] as const;

/** The storefront's on-behalf entry for one customer account (see the storefront demo). */
export function onBehalfUrl(storefrontUrl: string, store: string, accountId: string): string {
  return `${storefrontUrl}/${encodeURIComponent(store)}/on-behalf/start?customer=${encodeURIComponent(accountId)}`;
}

function query(values: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

export function contactRoutes(deps: PortalDeps): Router {
  const router = new Router();
  let storeCache: { at: number; stores: Store[] } | undefined;

  /** The stores to filter by; they change rarely, so one answer serves everyone for a minute. */
  async function stores(token: string): Promise<Store[]> {
    if (!storeCache || Date.now() - storeCache.at > 60_000)
      storeCache = { at: Date.now(), stores: (await deps.api.get<{ stores: Store[] }>('/directory/stores', token)).stores };
    return storeCache.stores;
  }

  router.get('/contacts', async (ctx) => {
    const { user } = requireUser(deps, ctx);
    const filters = { q: param(ctx, 'q'), store: param(ctx, 'store'), status: param(ctx, 'status') };
    const pageText = param(ctx, 'page');
    const page = /^\d{1,4}$/.test(pageText) && Number(pageText) >= 1 ? Number(pageText) : 1;
    const storeList = await stores(user.accessToken);
    let result: ContactPage | undefined;
    let error: string | undefined;
    try {
      result = await deps.api.get<ContactPage>('/directory/contacts', user.accessToken, {
        ...filters,
        page: String(page),
        limit: String(PAGE_SIZE),
      });
    } catch (caught) {
      // A search Behalf cannot use (too long, too many words) is shown on the page, with the form to fix it.
      if (!(caught instanceof PortalError) || caught.status !== 400) throw caught;
      error = caught.message;
    }
    const names = new Map(storeList.map((store) => [store.slug, store.name]));
    const pages = result ? Math.max(1, Math.ceil(result.total / PAGE_SIZE)) : 1;
    await render(
      deps,
      ctx,
      'contacts',
      {
        title: filters.q ? `Contacts matching “${filters.q}”` : 'Contacts',
        section: 'contacts',
        ...filters,
        stores: storeList,
        statuses: STATUSES,
        error,
        total: result?.total ?? 0,
        totalExact: result?.total_exact ?? true,
        page,
        pages,
        first: result && result.contacts.length ? (page - 1) * PAGE_SIZE + 1 : 0,
        last: result ? (page - 1) * PAGE_SIZE + result.contacts.length : 0,
        contacts: (result?.contacts ?? []).map((contact) => ({
          ...contact,
          storeNames: contact.stores.map((slug) => names.get(slug) ?? slug),
        })),
        previous: page > 1 ? `/contacts${query({ ...filters, page: page - 1 })}` : undefined,
        next: page < pages ? `/contacts${query({ ...filters, page: page + 1 })}` : undefined,
      },
      error ? 400 : 200,
    );
  });

  router.get('/contacts/:id', async (ctx) => {
    const { session, user } = requireUser(deps, ctx);
    if (!isUuid(ctx.params.id!)) throw notFound('There is no such contact.');
    const [contact, mine] = await Promise.all([
      deps.api.get<ContactDetail>(`/directory/contacts/${ctx.params.id}`, user.accessToken),
      listAgentSessions(deps.api, user.accessToken, { active: true, limit: 100 }),
    ]);
    const admin = await isAdmin(deps, session, user);
    const now = Date.now();
    await render(deps, ctx, 'contact', {
      title: contact.name,
      section: 'contacts',
      contact,
      isAdmin: admin,
      accounts: contact.accounts.map((account) => ({
        ...account,
        storeName: account.store?.name ?? 'Back office',
        loginUrl:
          account.can_login_on_behalf && account.store ? onBehalfUrl(deps.storefrontUrl, account.store.slug, account.id) : undefined,
        whyNot: account.can_login_on_behalf ? undefined : loginRefusalText(account),
      })),
      // The agent already acts as one of these accounts (in another tab): say so before they start a second session.
      openSessions: mine.sessions
        .filter((open) => open.active && contact.accounts.some((account) => account.id === open.customer_id))
        .map((open) => ({
          storeName: open.customer.store?.name ?? open.client_id,
          started: clock(open.started_at),
          left: timeLeft(open.expires_at, now),
        })),
    });
  });

  return router;
}
