/** Console pages for people: search, one person, staff creation, status, second factor, permissions. */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { isUuid } from '../../common/uuid.js';
import type { PersonDetails, PersonSummary } from '../admin/people-directory.js';
import { queryString } from './admin-api.js';
import { errorField, field, param, type ConsoleKit } from './console-kit.js';

interface StoreOption {
  slug: string;
  name: string;
}

/** The stores, for choosing where a permission applies. */
async function storeOptions(kit: ConsoleKit, ctx: Context): Promise<StoreOption[]> {
  return (await kit.api(ctx).get<{ stores: StoreOption[] }>('/admin/stores')).body.stores ?? [];
}

export function peoplePages(router: Router, kit: ConsoleKit): void {
  router.get('/people', async (ctx) => {
    const q = param(ctx, 'q');
    const kind = param(ctx, 'kind');
    const answer = await kit.api(ctx).get<{ people: PersonSummary[] }>(`/admin/people${queryString({ q, kind, limit: '100' })}`);
    const error = answer.status === 200 ? undefined : answer.body.error_description;
    kit.render(ctx, 'people', {
      title: 'People',
      section: 'people',
      status: answer.status === 200 ? 200 : 400,
      q,
      kind,
      people: answer.body.people ?? [],
      error,
      errorField: error ? (errorField(answer.body, ['q', 'kind']) ?? 'q') : undefined,
    });
  });

  router.get('/people/new', (ctx) =>
    kit.render(ctx, 'person-new', { title: 'Add a staff member', section: 'people', values: { email: '', name: '', roles: ['support'] } }),
  );

  router.post('/people', async (ctx) => {
    const roles = ['support', 'admin'].filter((role) => {
      const value = (ctx.request.body as Record<string, unknown>).roles;
      return Array.isArray(value) ? value.includes(role) : value === role;
    });
    const values = { email: field(ctx, 'email'), name: field(ctx, 'name'), roles };
    const answer = await kit.api(ctx).call<{ person: PersonDetails; password?: string }>('POST', '/admin/people', values);
    if (answer.status !== 201)
      return kit.render(ctx, 'person-new', {
        title: 'Add a staff member',
        section: 'people',
        status: 400,
        values,
        error: answer.body.error_description,
        errorField: errorField(answer.body, ['email', 'name', 'roles']) ?? 'email',
      });
    // Shown once, on this response only (no-store): never put in a redirect or a cookie.
    kit.render(ctx, 'shown-once', {
      title: `${answer.body.person.name} can sign in`,
      section: 'people',
      person: answer.body.person,
      lines: [
        ['Sign-in email', answer.body.person.email ?? ''],
        ['Temporary password', answer.body.password ?? ''],
      ],
      note: 'Hand this password to the new staff member over a channel you trust. Behalf keeps only its hash; it is not shown again.',
    });
  });

  async function showPerson(ctx: Context, extra: Record<string, unknown> = {}) {
    const id = ctx.params.id!;
    const answer = isUuid(id) ? await kit.api(ctx).get<PersonDetails>(`/admin/people/${id}`) : undefined;
    if (!answer || answer.status !== 200)
      return kit.render(ctx, 'message', { title: 'No such person', section: 'people', status: 404, message: 'There is no such person.' });
    const person = answer.body;
    kit.render(ctx, 'person', {
      title: person.name,
      section: 'people',
      person,
      stores: person.kind === 'staff' ? await storeOptions(kit, ctx) : [],
      ...extra,
      status: extra.error ? 400 : 200,
    });
  }

  router.get('/people/:id', (ctx) => showPerson(ctx));

  for (const action of ['disable', 'enable', 'unlock'] as const) {
    router.post(`/people/:id/${action}`, async (ctx) => {
      const reason = field(ctx, 'reason');
      const answer = await kit
        .api(ctx)
        .call<{ changed: boolean; person: PersonDetails }>(
          'POST',
          `/admin/people/${encodeURIComponent(ctx.params.id!)}/${action}`,
          reason ? { reason } : {},
        );
      if (answer.status !== 200) return showPerson(ctx, { error: answer.body.error_description, errorForm: 'status' });
      const name = answer.body.person.name;
      const words = {
        disable: `${name} is disabled: they can no longer sign in, and their on-behalf sessions ended.`,
        enable: `${name} is enabled again.`,
        unlock: answer.body.changed ? `${name} is unlocked and can sign in again.` : `${name} was not locked; nothing changed.`,
      };
      kit.done(ctx, `${ctx.path.replace(/\/[a-z]+$/, '')}`, words[action]);
    });
  }

  router.post('/people/:id/totp/reset', async (ctx) => {
    const id = encodeURIComponent(ctx.params.id!);
    const answer = await kit
      .api(ctx)
      .call<{ otpauth_uri: string; secret: string; recovery_codes: string[] }>('POST', `/admin/people/${id}/totp/reset`, {});
    if (answer.status !== 200) return showPerson(ctx, { error: answer.body.error_description, errorForm: 'totp' });
    const person = (await kit.api(ctx).get<PersonDetails>(`/admin/people/${id}`)).body;
    kit.render(ctx, 'shown-once', {
      title: `New second factor for ${person.name}`,
      section: 'people',
      person,
      lines: [
        ['Authenticator URI', answer.body.otpauth_uri],
        ['Secret', answer.body.secret],
        ['Recovery codes (each works once)', answer.body.recovery_codes.join(' ')],
      ],
      note: 'The previous secret and recovery codes no longer work. Hand these to the account holder now; they are not shown again.',
    });
  });

  router.post('/people/:id/totp/remove', async (ctx) => {
    const answer = await kit
      .api(ctx)
      .call<{ changed: boolean; person: PersonDetails }>('DELETE', `/admin/people/${encodeURIComponent(ctx.params.id!)}/totp`);
    if (answer.status !== 200) return showPerson(ctx, { error: answer.body.error_description, errorForm: 'totp' });
    kit.done(
      ctx,
      `/console/people/${answer.body.person.id}`,
      answer.body.changed
        ? `${answer.body.person.name} signs in with a password alone until enrolled again.`
        : `${answer.body.person.name} had no second factor.`,
    );
  });

  for (const action of ['grant', 'revoke'] as const) {
    router.post(`/people/:id/permissions/${action}`, async (ctx) => {
      const store = field(ctx, 'store');
      const reason = field(ctx, 'reason');
      const form = action === 'grant' ? 'grant' : `revoke-${store}`;
      if (!/^([a-z0-9-]{1,100}|\*)$/.test(store))
        return showPerson(ctx, { error: 'Choose a store.', errorForm: form, errorField: 'store' });
      const answer = await kit
        .api(ctx)
        .call<{ changed: boolean; person: PersonDetails; note?: string }>(
          action === 'grant' ? 'PUT' : 'DELETE',
          `/admin/people/${encodeURIComponent(ctx.params.id!)}/permissions/security:loginOnBehalf/stores/${encodeURIComponent(store)}`,
          { reason },
        );
      if (answer.status !== 200)
        return showPerson(ctx, {
          error: answer.body.error_description,
          errorForm: form,
          errorField: errorField(answer.body, ['reason', 'store']) ?? 'reason',
        });
      const { person, changed, note } = answer.body;
      const where = store === '*' ? 'all stores' : (person.permissions.find((held) => held.store?.slug === store)?.store?.name ?? store);
      const message =
        action === 'grant'
          ? changed
            ? `${person.name} may now log in on behalf of customers at ${where}.`
            : `${person.name} already could at ${where}; nothing changed.`
          : changed
            ? `${person.name} may no longer log in on behalf of customers at ${store === '*' ? 'all stores' : storeName(store, ctx)}.`
            : `${person.name} did not hold that permission; nothing changed.`;
      kit.done(ctx, `/console/people/${person.id}`, note ? `${message} Note: ${note}.` : message);
    });
  }
}

/** The store's name as the revoke form sent it (the form names the store it was rendered for). */
function storeName(slug: string, ctx: Context): string {
  return field(ctx, 'store_name') || slug;
}
