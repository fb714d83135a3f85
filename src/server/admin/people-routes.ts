/**
 * Admin API over people (staff and customers), for the admin console and the CLI:
 *   GET    /admin/people?q=&kind=&limit=              search by name, email, phone or id
 *   GET    /admin/people/:id                          one person: store, roles, status, permissions
 *   POST   /admin/people                              create (invite) a staff member; a generated password is shown once
 *   POST   /admin/people/:id/{disable,enable,unlock}  with an optional {reason}
 *   POST   /admin/people/:id/totp/reset               new TOTP secret and recovery codes, shown once
 *   DELETE /admin/people/:id/totp                     remove the second factor
 *   PUT    /admin/people/:id/permissions/security:loginOnBehalf/stores/:store    grant, {reason} required
 *   DELETE /admin/people/:id/permissions/security:loginOnBehalf/stores/:store    revoke, {reason} required
 * `:store` is a store's slug, or `*` for all stores. Admin role only; every change audited (`admin.*`).
 */
import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { AccountService } from '../../accounts/account-service.js';
import { PERMISSIONS, type Permission, type RoleName } from '../../accounts/entities/index.js';
import { assertAcceptablePassword, PasswordPolicyError } from '../../accounts/passwords.js';
import type { StoreService } from '../../accounts/store-service.js';
import { TotpError, TotpService } from '../../accounts/totp-service.js';
import { isUuid } from '../../common/uuid.js';
import type { AuditService } from '../audit-trail/audit-service.js';
import { requestMeta } from '../audit-trail/request-meta.js';
import type { OidcPort } from '../oidc/port.js';
import type { OnBehalfRepository } from '../on-behalf/on-behalf-repository.js';
import { requireStaffToken } from './bearer-auth.js';
import { badRequest, bodyOf, optionalJsonBody, reasonOf } from './optional-json-body.js';
import { PeopleDirectory, type PersonDetails } from './people-directory.js';

export interface PeopleRouteDependencies {
  oidc: OidcPort;
  accounts: AccountService;
  stores: StoreService;
  totp: TotpService;
  audit: AuditService;
  sessions: OnBehalfRepository;
  people: PeopleDirectory;
  maxBodyBytes: number;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
const STAFF_ROLES: readonly RoleName[] = ['support', 'admin'];

function notFound(ctx: Context): void {
  ctx.status = 404;
  ctx.body = { error: 'not_found', error_description: 'no such person' };
}

export function peopleAdminRoutes(deps: PeopleRouteDependencies): Router {
  const router = new Router({ prefix: '/admin/people' });
  router.use(requireStaffToken(deps.oidc, deps.accounts, 'admin'));
  router.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  const body = optionalJsonBody(deps.maxBodyBytes);

  async function record(ctx: Context, type: string, subject: string, details: Record<string, string | boolean | null | string[]>) {
    const admin = ctx.state.staff!;
    await deps.audit.record({
      type: type as `admin.${string}`,
      actor: admin.account.id,
      subject,
      clientId: admin.clientId,
      ...requestMeta(ctx),
      details,
    });
  }

  /** The person named by `:id`, or a 404 already written. */
  async function person(ctx: Context): Promise<PersonDetails | undefined> {
    const found = await deps.people.details(ctx.params.id!);
    if (!found) notFound(ctx);
    return found;
  }

  router.get('/', async (ctx) => {
    const { q, kind, limit } = ctx.query;
    if (q !== undefined && (typeof q !== 'string' || q.length > 200 || q.includes('\u0000')))
      return badRequest(ctx, 'q must be text of at most 200 characters', 'q');
    if (kind !== undefined && kind !== 'staff' && kind !== 'customer') return badRequest(ctx, 'kind must be staff or customer', 'kind');
    if (limit !== undefined && (typeof limit !== 'string' || !/^\d{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > 100))
      return badRequest(ctx, 'limit must be a whole number from 1 to 100', 'limit');
    ctx.body = { people: await deps.people.search({ q, kind, limit: limit ? Number(limit) : undefined }) };
  });

  router.get('/:id', async (ctx) => {
    const found = await person(ctx);
    if (found) ctx.body = found;
  });

  router.post('/', body, async (ctx) => {
    const input = bodyOf(ctx);
    const email = typeof input.email === 'string' ? input.email.trim().toLowerCase() : '';
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (!EMAIL.test(email)) return badRequest(ctx, 'email must be an email address', 'email');
    if (!name || name.length > 200 || name.includes('\u0000')) return badRequest(ctx, 'name is required (at most 200 characters)', 'name');
    const roles = input.roles;
    if (!Array.isArray(roles) || !roles.length || roles.some((role) => !STAFF_ROLES.includes(role as RoleName)))
      return badRequest(ctx, 'roles must list support and/or admin', 'roles');
    const generated = input.password === undefined;
    const password = generated ? randomBytes(18).toString('base64url') : input.password;
    if (typeof password !== 'string') return badRequest(ctx, 'password must be text', 'password');
    try {
      assertAcceptablePassword(password);
    } catch (error) {
      if (error instanceof PasswordPolicyError) return badRequest(ctx, error.message, 'password');
      throw error;
    }
    if (await deps.accounts.findByUsername(null, email)) {
      ctx.status = 409;
      ctx.body = { error: 'conflict', error_description: `a staff account ${email} already exists`, field: 'email' };
      return;
    }
    let created: Awaited<ReturnType<AccountService['create']>>;
    try {
      created = await deps.accounts.create({
        username: email,
        email,
        displayName: name,
        password,
        storeId: null,
        roles: [...new Set(roles as RoleName[])],
      });
    } catch (error) {
      // The same email created a moment ago by another request (the unique index decides).
      if ((error as { code?: string }).code !== '23505' && (error as { driverError?: { code?: string } }).driverError?.code !== '23505')
        throw error;
      ctx.status = 409;
      ctx.body = { error: 'conflict', error_description: `a staff account ${email} already exists`, field: 'email' };
      return;
    }
    await record(ctx, 'admin.account.created', created.id, { username: created.username, store: null, roles: created.roles });
    ctx.status = 201;
    ctx.body = { person: await deps.people.details(created.id), ...(generated ? { password } : {}) };
  });

  for (const action of ['disable', 'enable', 'unlock'] as const) {
    router.post(`/:id/${action}`, body, async (ctx) => {
      const reason = reasonOf(ctx, false);
      if (reason instanceof Error) return badRequest(ctx, reason.message, 'reason');
      const found = await person(ctx);
      if (!found) return;
      if (action === 'disable' && found.id === ctx.state.staff!.account.id) return badRequest(ctx, 'you cannot disable your own account');
      let changed = true;
      if (action === 'unlock') changed = await deps.accounts.unlock(found.id);
      else await deps.accounts.setStatus(found.id, action === 'disable' ? 'disabled' : 'active');
      // A disabled agent or customer takes part in no on-behalf session any more.
      if (action === 'disable') await deps.sessions.endAccountSessions(found.id, ctx.state.staff!.account.id, 'account_disabled');
      if (changed)
        await record(ctx, `admin.account.${action === 'disable' ? 'disabled' : action === 'enable' ? 'enabled' : 'unlocked'}`, found.id, {
          username: found.username,
          reason,
        });
      ctx.body = { changed, person: await deps.people.details(found.id) };
    });
  }

  router.post('/:id/totp/reset', body, async (ctx) => {
    const found = await person(ctx);
    if (!found) return;
    const account = (await deps.accounts.findById(found.id))!;
    try {
      TotpService.assertEligible(account);
    } catch (error) {
      if (error instanceof TotpError) return badRequest(ctx, error.message);
      throw error;
    }
    const enrolment = await deps.totp.enroll(account);
    // Nothing is answered before the audit record is committed.
    await record(ctx, 'admin.account.totp_enrolled', found.id, { username: found.username, reset: found.second_factor });
    ctx.body = { id: found.id, otpauth_uri: enrolment.uri, secret: enrolment.secret, recovery_codes: enrolment.recoveryCodes };
  });

  router.delete('/:id/totp', async (ctx) => {
    const found = await person(ctx);
    if (!found) return;
    const removed = await deps.totp.disable(found.id);
    if (removed) await record(ctx, 'admin.account.totp_disabled', found.id, { username: found.username });
    ctx.body = { changed: removed, person: await deps.people.details(found.id) };
  });

  for (const method of ['put', 'delete'] as const) {
    router[method]('/:id/permissions/:permission/stores/:store', body, async (ctx) => {
      const permission = ctx.params.permission as Permission;
      if (!PERMISSIONS.includes(permission)) return badRequest(ctx, `permission must be one of ${PERMISSIONS.join(', ')}`, 'permission');
      const reason = reasonOf(ctx, true);
      if (reason instanceof Error) return badRequest(ctx, reason.message, 'reason');
      const slug = ctx.params.store!;
      const store = slug === '*' ? null : /^[a-z0-9][a-z0-9-]{0,99}$/.test(slug) ? await deps.stores.findBySlug(slug) : undefined;
      if (store === undefined) return badRequest(ctx, `there is no store ${slug}`, 'store');
      if (!isUuid(ctx.params.id)) return notFound(ctx);
      const found = await person(ctx);
      if (!found) return;
      if (found.kind !== 'staff' || !found.roles.some((role) => STAFF_ROLES.includes(role)))
        return badRequest(ctx, `${found.name} is not staff; only staff (support, admin) hold permissions`);
      const already = found.permissions.some((held) => held.permission === permission && (held.store?.id ?? null) === (store?.id ?? null));
      const details = { permission, store: store ? store.name : 'all stores', store_id: store?.id ?? null, reason };
      let changed: boolean;
      if (method === 'put') {
        changed = !already;
        if (changed) await deps.accounts.grantPermission(found.id, permission, store?.id ?? null);
        if (changed) await record(ctx, 'admin.permission.granted', found.id, details);
      } else {
        changed = (await deps.accounts.revokePermission(found.id, permission, store?.id ?? null)) > 0;
        if (changed) await record(ctx, 'admin.permission.revoked', found.id, details);
        // As the CLI does: the agent's running sessions in stores no longer covered end now (their tokens with them).
        if (changed && permission === 'security:loginOnBehalf') {
          const held = (await deps.accounts.permissions(found.id)).filter((grant) => grant.permission === permission);
          await deps.sessions.endSessionsOutside(found.id, held, ctx.state.staff!.account.id);
        }
      }
      const after = (await deps.people.details(found.id))!;
      // Revoking one store does not narrow an all-stores grant: say so rather than let the admin believe it did.
      const stillAllStores =
        method === 'delete' && store !== null && after.permissions.some((held) => held.permission === permission && !held.store);
      ctx.body = { changed, person: after, ...(stillAllStores ? { note: `${after.name} still holds ${permission} for all stores` } : {}) };
    });
  }

  return router;
}

/** GET /admin/stores: the stores, for choosing where a permission applies. Admin role only. */
export function storesAdminRoutes(deps: Pick<PeopleRouteDependencies, 'oidc' | 'accounts' | 'stores'>): Router {
  const router = new Router({ prefix: '/admin/stores' });
  router.use(requireStaffToken(deps.oidc, deps.accounts, 'admin'));
  router.get('/', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      stores: (await deps.stores.list()).map((store) => ({ id: store.id, slug: store.slug, name: store.name, base_url: store.baseUrl })),
    };
  });
  return router;
}
