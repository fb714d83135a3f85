/**
 * Dynamic client registration (RFC 7591) and its management (RFC 7592) for
 * integrators, through oidc-provider's own `registration` and
 * `registrationManagement` features: registration needs an initial access
 * token, whose policy (initial_access_token_policy) bounds the resources the
 * client may ask for; the `integrator` policy runs on registration and on
 * every update (oidc-provider copies it to the registration access token).
 * Clients land in `oauth_client` through the Client adapter (oidc/adapter.ts),
 * their secret sealed; each change is audited with the client as actor.
 */
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { AuditService } from '../audit-trail/audit-service.js';
import { requestMeta } from '../audit-trail/request-meta.js';
import type { BehalfClientMetadata, ClientRepository } from '../clients/client-repository.js';
import type { InitialAccessTokenPolicies } from '../clients/initial-access-tokens.js';
import { applyIntegratorPolicy } from '../clients/integrator-policy.js';
import type { ResourceServerRegistry } from '../clients/resource-servers.js';

export const INTEGRATOR_POLICY = 'integrator';

export interface RegistrationDependencies {
  clients: ClientRepository;
  resourceServers: ResourceServerRegistry;
  policies: InitialAccessTokenPolicies;
  audit: AuditService;
}

type Features = NonNullable<Configuration['features']>;

/** The resources this registration (by its initial access token) or update (by the registered client) may use. */
async function allowanceFor(ctx: KoaContextWithOIDC, deps: RegistrationDependencies): Promise<string[]> {
  const iat = ctx.oidc.entities.InitialAccessToken;
  if (iat?.jti) {
    const allowance = await deps.policies.allowance(iat.jti);
    if (allowance) return allowance;
  } else if (ctx.oidc.client) {
    const row = await deps.clients.find(ctx.oidc.client.clientId);
    if (row?.registrationResources) return row.registrationResources;
  }
  // Fail closed: a token without a policy row registers nothing.
  throw new errors.InvalidClientMetadata('this registration has no resource policy; ask an administrator for a new initial access token');
}

export function registrationFeatures(deps: RegistrationDependencies): Pick<Features, 'registration' | 'registrationManagement'> {
  return {
    registration: {
      enabled: true,
      initialAccessToken: true,
      issueRegistrationAccessToken: true,
      policies: {
        [INTEGRATOR_POLICY]: async (ctx, properties) => {
          const allowance = await allowanceFor(ctx, deps);
          await deps.resourceServers.refresh();
          const problem = applyIntegratorPolicy(
            properties as Record<string, unknown>,
            allowance,
            (value) => deps.resourceServers.find(value)?.identifier,
          );
          if (problem?.error === 'invalid_redirect_uri') throw new errors.InvalidRedirectUri(problem.description);
          if (problem) throw new errors.InvalidClientMetadata(problem.description);
          const mayAct = (properties as Record<string, unknown>).may_act;
          if (typeof mayAct === 'string' && !(await deps.clients.findForProvider(mayAct)))
            throw new errors.InvalidClientMetadata(`may_act: no client ${mayAct}`);
        },
      },
    },
    registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
  };
}

/** Where oidc-provider's Client adapter writes registered and updated clients (its secret sealed by the repository). */
export function registeredClientStore(clients: ClientRepository) {
  return {
    saveClient: async (clientId: string, metadata: Record<string, unknown>) => {
      const secret = typeof metadata.client_secret === 'string' ? metadata.client_secret : null;
      await clients.save({ ...(metadata as BehalfClientMetadata), client_id: clientId }, secret);
    },
    removeClient: async (clientId: string) => {
      await clients.remove(clientId);
    },
  };
}

const AUDITED: Record<string, 'client.registered' | 'client.updated' | 'client.deleted'> = {
  registration: 'client.registered',
  client_update: 'client.updated',
  client_delete: 'client.deleted',
};

/**
 * oidc-provider middleware: after a successful registration, marks the client as dynamically
 * registered within its allowance and audits it; after an update or a deletion, audits it. If
 * that fails, a new registration is undone and the request fails (no client without its record).
 */
export function registrationAudit(deps: RegistrationDependencies) {
  return async function auditRegistration(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    await next();
    // Only oidc-provider's registration routes, and only what succeeded (errors are answered as they are).
    const type = AUDITED[ctx.oidc?.route ?? ''];
    if (!type || ctx.status >= 300) return;
    const body = ctx.body && typeof ctx.body === 'object' ? (ctx.body as Record<string, unknown>) : {};
    const clientId = ctx.oidc.client?.clientId ?? body.client_id;
    if (typeof clientId !== 'string') return;
    try {
      if (type === 'client.registered') {
        const allowance = await deps.policies.allowance(ctx.oidc.entities.InitialAccessToken!.jti);
        await deps.clients.markRegistered(clientId, allowance ?? []);
      }
      await deps.audit.record({
        type,
        actor: `client:${clientId}`,
        clientId,
        ...requestMeta(ctx),
        details:
          type === 'client.deleted'
            ? {}
            : {
                grant_types: (body.grant_types as string[] | undefined) ?? [],
                allowed_resources: (body.allowed_resources as string[] | undefined) ?? [],
              },
      });
    } catch (error) {
      if (type === 'client.registered') await deps.clients.remove(clientId);
      throw error;
    }
  };
}
