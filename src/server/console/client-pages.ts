/**
 * Console pages for clients and resource servers, over the admin API's
 * /admin/clients and /admin/resource-servers: list, create, edit every
 * policy (a merge patch), rotate a client's secret (shown once).
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import {
  ClientFormError,
  clientErrorField,
  formValues,
  GRANT_CHOICES,
  KIND_CHOICES,
  metadataFrom,
  readForm,
  type ClientFormValues,
} from './client-form.js';
import { field, type ConsoleKit } from './console-kit.js';

interface ResourceServerJson {
  identifier: string;
  name: string | null;
  token_format: string;
  scopes: string[];
  access_token_ttl: number | null;
  aliases: string[];
}

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,200}$/;

function lines(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((line) => line.trim())
    .filter(Boolean);
}

export function clientPages(router: Router, kit: ConsoleKit): void {
  router.get('/clients', async (ctx) => {
    const api = kit.api(ctx);
    const [clients, servers] = await Promise.all([
      api.get<{ clients: Record<string, unknown>[] }>('/admin/clients'),
      api.get<{ resource_servers: ResourceServerJson[] }>('/admin/resource-servers'),
    ]);
    kit.render(ctx, 'clients', {
      title: 'Clients and resource servers',
      section: 'clients',
      clients: clients.body.clients ?? [],
      servers: servers.body.resource_servers ?? [],
    });
  });

  async function stores(ctx: Context) {
    return (await kit.api(ctx).get<{ stores: { slug: string; name: string }[] }>('/admin/stores')).body.stores ?? [];
  }

  async function clientForm(
    ctx: Context,
    values: ClientFormValues,
    extra: { creating: boolean; error?: string; errorField?: string; client?: Record<string, unknown> },
  ) {
    const servers =
      (await kit.api(ctx).get<{ resource_servers: ResourceServerJson[] }>('/admin/resource-servers')).body.resource_servers ?? [];
    kit.render(ctx, 'client', {
      title: extra.creating ? 'New client' : `Client ${values.client_name || values.client_id}`,
      section: 'clients',
      status: extra.error ? 400 : 200,
      values,
      grants: GRANT_CHOICES,
      kinds: KIND_CHOICES,
      stores: await stores(ctx),
      servers,
      ...extra,
    });
  }

  router.get('/clients/new', (ctx) =>
    clientForm(ctx, formValues({ client_kind: 'service', grant_types: ['client_credentials'] }), { creating: true }),
  );

  router.post('/clients', async (ctx) => {
    const values = readForm(ctx.request.body as Record<string, unknown>);
    if (!CLIENT_ID.test(values.client_id))
      return clientForm(ctx, values, {
        creating: true,
        error: 'client id: letters, digits and . _ : - only (at most 200)',
        errorField: 'client_id',
      });
    let metadata: Record<string, unknown>;
    try {
      metadata = metadataFrom(values, false);
    } catch (error) {
      if (!(error instanceof ClientFormError)) throw error;
      return clientForm(ctx, values, { creating: true, error: error.message, errorField: error.field });
    }
    const answer = await kit.api(ctx).call<Record<string, unknown> & { client_secret?: string }>('POST', '/admin/clients', metadata);
    if (answer.status !== 201)
      return clientForm(ctx, values, {
        creating: true,
        error: answer.body.error_description,
        errorField: clientErrorField(answer.body.error_description) ?? 'client_id',
      });
    const id = String(answer.body.client_id);
    kit.render(ctx, 'shown-once', {
      title: `Client ${String(answer.body.client_name ?? id)} created`,
      section: 'clients',
      lines: [['Client id', id], ...(answer.body.client_secret ? [['Client secret', answer.body.client_secret]] : [])],
      note: answer.body.client_secret
        ? 'Give the secret to the client’s developers now: Behalf keeps it sealed and never shows it again (rotate it to get a new one).'
        : 'This client has no secret.',
      back: { href: `/console/clients/${encodeURIComponent(id)}`, text: `Back to ${id}` },
    });
  });

  async function loadClient(ctx: Context): Promise<Record<string, unknown> | undefined> {
    const answer = await kit.api(ctx).get<Record<string, unknown>>(`/admin/clients/${encodeURIComponent(ctx.params.id!)}`);
    return answer.status === 200 ? answer.body : undefined;
  }

  const noClient = (ctx: Context) =>
    kit.render(ctx, 'message', { title: 'No such client', section: 'clients', status: 404, message: 'There is no such client.' });

  router.get('/clients/:id', async (ctx) => {
    const client = await loadClient(ctx);
    if (!client) return noClient(ctx);
    await clientForm(ctx, formValues(client), { creating: false, client });
  });

  router.post('/clients/:id', async (ctx) => {
    const client = await loadClient(ctx);
    if (!client) return noClient(ctx);
    const values = { ...readForm(ctx.request.body as Record<string, unknown>), client_id: String(client.client_id) };
    let patch: Record<string, unknown>;
    try {
      patch = metadataFrom(values, true);
    } catch (error) {
      if (!(error instanceof ClientFormError)) throw error;
      return clientForm(ctx, values, { creating: false, client, error: error.message, errorField: error.field });
    }
    const answer = await kit.api(ctx).call('PATCH', `/admin/clients/${encodeURIComponent(values.client_id)}`, patch);
    if (answer.status !== 200)
      return clientForm(ctx, values, {
        creating: false,
        client,
        error: answer.body.error_description,
        errorField: clientErrorField(answer.body.error_description) ?? 'client_name',
      });
    kit.done(
      ctx,
      `/console/clients/${encodeURIComponent(values.client_id)}`,
      `Saved the policies of ${values.client_name || values.client_id}.`,
    );
  });

  router.post('/clients/:id/secret', async (ctx) => {
    const client = await loadClient(ctx);
    if (!client) return noClient(ctx);
    const hours = Number(field(ctx, 'grace_hours') || '24');
    const grace = Number.isFinite(hours) && hours >= 0 && hours <= 720 ? Math.round(hours * 3600) : 86_400;
    const id = String(client.client_id);
    const answer = await kit
      .api(ctx)
      .call<{ client_secret: string; previous_secret_expires_at: string | null }>(
        'POST',
        `/admin/clients/${encodeURIComponent(id)}/secret`,
        { grace_seconds: grace },
      );
    if (answer.status !== 200)
      return clientForm(ctx, formValues(client), {
        creating: false,
        client,
        error: answer.body.error_description,
        errorField: 'grace_hours',
      });
    kit.render(ctx, 'shown-once', {
      title: `New secret for ${String(client.client_name ?? id)}`,
      section: 'clients',
      lines: [
        ['Client id', id],
        ['New client secret', answer.body.client_secret],
        [
          'The previous secret works until',
          answer.body.previous_secret_expires_at
            ? answer.body.previous_secret_expires_at.replace('T', ' ').slice(0, 16) + ' UTC'
            : 'no longer',
        ],
      ],
      note: 'Give the new secret to the client’s developers now: it is not shown again.',
      back: { href: `/console/clients/${encodeURIComponent(id)}`, text: `Back to ${id}` },
    });
  });

  function serverBody(ctx: Context, creating: boolean): Record<string, unknown> {
    const ttl = field(ctx, 'access_token_ttl');
    return {
      ...(creating ? { identifier: field(ctx, 'identifier') } : {}),
      name: field(ctx, 'name') || null,
      token_format: field(ctx, 'token_format') || 'jwt',
      scopes: lines(field(ctx, 'scopes')),
      access_token_ttl: ttl ? Number(ttl) : null,
      aliases: lines(field(ctx, 'aliases')),
    };
  }

  function serverForm(ctx: Context, values: Partial<ResourceServerJson>, creating: boolean, error?: string) {
    const named = /^(identifier|name|token_format|scopes|access_token_ttl|aliases)/.exec(error ?? '')?.[1];
    kit.render(ctx, 'resource-server', {
      title: creating ? 'New resource server' : `Resource server ${values.name ?? values.identifier}`,
      section: 'clients',
      status: error ? 400 : 200,
      values,
      creating,
      error,
      errorField: error ? (named ?? (creating ? 'identifier' : 'name')) : undefined,
    });
  }

  router.get('/resource-servers/new', (ctx) => serverForm(ctx, { token_format: 'jwt', scopes: [], aliases: [] }, true));

  router.post('/resource-servers', async (ctx) => {
    const body = serverBody(ctx, true);
    const answer = await kit.api(ctx).call<ResourceServerJson>('POST', '/admin/resource-servers', body);
    if (answer.status !== 201) return serverForm(ctx, body as Partial<ResourceServerJson>, true, answer.body.error_description);
    kit.done(ctx, '/console/clients', `Created the resource server ${answer.body.name ?? answer.body.identifier}.`);
  });

  router.get('/resource-servers/:id', async (ctx) => {
    const answer = await kit.api(ctx).get<ResourceServerJson>(`/admin/resource-servers/${encodeURIComponent(ctx.params.id!)}`);
    if (answer.status !== 200)
      return kit.render(ctx, 'message', {
        title: 'No such resource server',
        section: 'clients',
        status: 404,
        message: 'There is no such resource server.',
      });
    serverForm(ctx, answer.body, false);
  });

  router.post('/resource-servers/:id', async (ctx) => {
    const body = serverBody(ctx, false);
    const answer = await kit
      .api(ctx)
      .call<ResourceServerJson>('PATCH', `/admin/resource-servers/${encodeURIComponent(ctx.params.id!)}`, body);
    if (answer.status !== 200)
      return serverForm(
        ctx,
        { ...(body as Partial<ResourceServerJson>), identifier: ctx.params.id! },
        false,
        answer.body.error_description,
      );
    kit.done(ctx, '/console/clients', `Saved the resource server ${answer.body.name ?? answer.body.identifier}.`);
  });
}
