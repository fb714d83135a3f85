/**
 * Behalf configuration: the one documented schema, with every default.
 *
 * Layers, later wins: these defaults → config/<NODE_ENV>.json → the file named
 * by BEHALF_CONFIG_FILE (if any) → environment variables (see ENVIRONMENT below).
 * Every object is strict: an unknown key is an error, so a typo never silently
 * falls back to a default.
 */
import { z } from 'zod';

const base64urlKey = z
  .string()
  .regex(
    /^[A-Za-z0-9_-]{43}$/,
    'must be 32 random bytes, base64url-encoded (43 characters); generate one with `npm run cli -- keys generate-secret`',
  );

const port = z.number().int().min(0).max(65535);

/** A budget of `points` requests per `durationSeconds`. */
const limit = (points: number, durationSeconds: number) =>
  z
    .object({ points: z.number().int().min(1).max(1_000_000), durationSeconds: z.number().int().min(1).max(86_400) })
    .strict()
    .prefault({ points, durationSeconds });

/** A static client registered from configuration (CLI-made clients live in the database). */
const staticClient = z
  .object({
    client_id: z.string().min(1),
  })
  .catchall(z.unknown());

export const configSchema = z
  .object({
    /** Runtime mode; production enables every fail-closed check. */
    env: z.enum(['development', 'production', 'test']).default('development'),
    /** Public issuer URL (what clients see); no trailing slash, no query. */
    issuer: z.url({ protocol: /^https?$/ }).default('http://localhost:4000'),
    /** Interface and port the HTTP server listens on. */
    host: z.string().min(1).default('127.0.0.1'),
    port: port.default(4000),
    /** Trust X-Forwarded-* headers (set when behind a TLS-offloading load balancer). */
    proxy: z.boolean().default(false),
    database: z
      .object({
        /**
         * postgres:// URL of the runtime role Behalf serves with. Unset: an embedded PostgreSQL is
         * started with its data under `embeddedDir`, with an owner and a runtime role of its own.
         */
        url: z
          .string()
          .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
          .optional(),
        /**
         * postgres:// URL of the role that owns the schema: migrations run with it, then grant the
         * runtime role (`url`) what it needs. Unset: migrations run with `url`, which then must own
         * the tables (fine for development; production refuses a runtime role that owns the audit trail).
         */
        migrationUrl: z
          .string()
          .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
          .optional(),
        /** Where the embedded PostgreSQL keeps its data (a relative path is the project root's). */
        embeddedDir: z.string().min(1).default('.data/postgres'),
        /** Connections per Behalf process. */
        poolSize: z.number().int().min(1).max(200).default(10),
        /** Apply pending migrations on start. */
        migrateOnStart: z.boolean().default(true),
      })
      .strict()
      .refine((database) => !database.migrationUrl || database.url, {
        path: ['migrationUrl'],
        message: 'needs database.url (DATABASE_URL) for the runtime role; the embedded PostgreSQL sets up both roles itself',
      })
      .prefault({}),
    secrets: z
      .object({
        /**
         * Key-encryption keys for private signing keys, client secrets and TOTP
         * secrets at rest. The first encrypts; all decrypt (rotation: put the new
         * one first, run `keys rewrap`, then drop the old one).
         */
        keyEncryptionKeys: z.array(base64urlKey).default([]),
        /** Keys signing Behalf's cookies; the first signs, all verify. */
        cookieKeys: z.array(z.string().min(32, 'must be at least 32 characters')).default([]),
      })
      .strict()
      .prefault({}),
    security: z
      .object({
        /** bcrypt cost factor for new password hashes (12 or more in production). */
        bcryptCost: z.number().int().min(4).max(15).default(12),
        /** Consecutive failed sign-ins before an account is locked. */
        lockoutThreshold: z.number().int().min(1).max(100).default(5),
        /** How long a lockout lasts. */
        lockoutSeconds: z.number().int().min(1).default(900),
        /** Largest request body accepted by Behalf's own forms and APIs. */
        maxBodyBytes: z.number().int().min(1024).max(10_485_760).default(65_536),
        /**
         * Login on behalf only with a second factor: the re-auth screen refuses
         * staff without TOTP, and the token exchange refuses a re-authentication
         * whose `amr` lacks `otp`. On in config/production.json.
         */
        requireSecondFactorForLoginOnBehalf: z.boolean().default(false),
        /** The admin console (/console) only for sign-ins whose `amr` shows a second factor. On in config/production.json. */
        requireSecondFactorForAdminConsole: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    tokens: z
      .object({
        accessTokenTtl: z.number().int().min(30).max(86_400).default(600),
        /** JWT access tokens for resource servers (RFC 9068) unless the resource server sets its own. */
        resourceAccessTokenTtl: z.number().int().min(30).max(86_400).default(600),
        authorizationCodeTtl: z.number().int().min(10).max(600).default(60),
        idTokenTtl: z.number().int().min(60).max(86_400).default(3600),
        refreshTokenTtl: z.number().int().min(60).default(1_209_600),
        clientCredentialsTtl: z.number().int().min(30).max(86_400).default(600),
        sessionTtl: z.number().int().min(60).default(86_400),
        interactionTtl: z.number().int().min(60).max(86_400).default(900),
        grantTtl: z.number().int().min(60).default(1_209_600),
      })
      .strict()
      .prefault({}),
    keys: z
      .object({
        /** How often each instance looks for signing-key and resource-server changes. */
        refreshIntervalSeconds: z.number().min(0.1).max(3600).default(5),
      })
      .strict()
      .prefault({}),
    adapter: z
      .object({
        /** How often expired oidc-provider rows are deleted. */
        cleanupIntervalSeconds: z.number().min(1).default(300),
      })
      .strict()
      .prefault({}),
    rateLimits: z
      .object({
        enabled: z.boolean().default(true),
        /** Sign-in and re-authentication attempts per client IP. */
        signInPerIp: limit(30, 60),
        /** Sign-in attempts per account name (whoever tries it). */
        signInPerAccount: limit(10, 300),
        /** Token-endpoint requests per client IP. */
        tokenPerIp: limit(600, 60),
        /** Token-endpoint requests per client id. */
        tokenPerClient: limit(1200, 60),
        /**
         * redis:// or rediss:// URL: keep the counters in Redis instead of the
         * database's `rate_limit` table (many instances, or sign-in bursts the
         * database should not absorb). Fail closed as well: while Redis cannot
         * be reached, limited requests get 503, never an unlimited pass.
         */
        redisUrl: z
          .url({ protocol: /^rediss?$/, hostname: /^[^\s]+$/, error: 'must be a redis:// or rediss:// URL with a host' })
          .optional(),
        /** Prefix of every Redis key Behalf writes (several deployments may share one Redis). */
        redisKeyPrefix: z
          .string()
          .regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'must be 1 to 64 characters among A-Z a-z 0-9 : _ . -')
          .default('behalf:rl:'),
      })
      .strict()
      .prefault({}),
    onBehalf: z
      .object({
        /** An on-behalf session must open within this many seconds of the agent's re-authentication. */
        reauthMaxAgeSeconds: z.number().int().min(30).max(3600).default(300),
        /** How long an on-behalf session lasts at most. */
        sessionMaxMinutes: z.number().int().min(1).max(480).default(60),
        /** Active on-behalf sessions one agent may hold at once. */
        maxConcurrentSessions: z.number().int().min(1).max(100).default(3),
        /** How often expired sessions are closed (and their end audited). */
        expirySweepSeconds: z.number().min(1).max(3600).default(30),
        /**
         * The agent's own "My on-behalf sessions" page (the portal's `/my-sessions`), which
         * refusals such as the per-agent session limit link to. Unset: no link is shown.
         */
        agentSessionsUrl: z.url({ protocol: /^https?$/ }).optional(),
      })
      .strict()
      .prefault({}),
    mail: z
      .object({
        /**
         * Behalf sends mail (password reset, email verification, approval requests, session
         * summaries). On in config/development.json; in production it needs `smtpUrl`.
         */
        enabled: z.boolean().default(false),
        /**
         * smtp:// or smtps:// URL of the mail relay (credentials in the URL). Unset in development:
         * `npm start` starts an embedded mail catcher and prints where to read its mail.
         */
        smtpUrl: z
          .string()
          .regex(/^smtps?:\/\/[^\s]+$/, 'must be an smtp:// or smtps:// URL')
          .optional(),
        /** The From of every mail. */
        from: z.string().min(3).max(320).default('Behalf <no-reply@behalf.localhost>'),
        /** How often the outbox worker looks for mail to send. */
        pollIntervalSeconds: z.number().min(0.05).max(600).default(2),
        /** First retry after this many seconds; each further one waits twice as long (at most an hour). */
        retryBaseSeconds: z.number().min(0.05).max(3600).default(15),
        /** Attempts before a mail is given up (marked failed, logged). */
        maxAttempts: z.number().int().min(1).max(100).default(12),
        /** The embedded mail catcher's ports (development, `npm start` without SMTP_URL). */
        catcher: z
          .object({ smtpPort: port.default(4025), webPort: port.default(4080), host: z.string().min(1).default('127.0.0.1') })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    customers: z
      .object({
        /** How long an agent's request waits for the customer's approval. */
        approvalRequestTtlSeconds: z.number().int().min(1).max(86_400).default(900),
        /** How long a password-reset link works (once). */
        passwordResetTtlSeconds: z.number().int().min(60).max(86_400).default(1800),
        /** How long an email-verification link works. */
        emailVerificationTtlSeconds: z.number().int().min(60).max(2_592_000).default(172_800),
      })
      .strict()
      .prefault({}),
    delegation: z
      .object({
        /** Deepest `act` chain a delegated token may carry (RFC 8693 §4.1 nesting). */
        maxChainDepth: z.number().int().min(1).max(10).default(4),
      })
      .strict()
      .prefault({}),
    audit: z
      .object({
        /** Unused since the Merkle log (signed tree heads replaced chain checkpoints); kept so existing files stay valid. */
        checkpointIntervalSeconds: z.number().min(1).max(86_400).default(60),
        /**
         * The sequencer (README "Audit log"): the pause between batches (the bound on how long a
         * committed record waits for its seq is about this plus one batch), how often a standby
         * instance tries to take over, and the least time between two signed tree heads.
         */
        sequencer: z
          .object({
            intervalMs: z.number().int().min(10).max(1000).default(200),
            electionMs: z.number().int().min(100).max(10_000).default(1000),
            treeHeadMs: z.number().int().min(100).max(3_600_000).default(1000),
          })
          .strict()
          .prefault({}),
        /**
         * Every checkpoint is also appended (first) to `<dir>/audit_event.checkpoints.jsonl`, out of
         * the database roles' reach, so a chain rewritten inside the database no longer matches.
         * A relative path is the project root's; one folder per database; null switches it off.
         */
        externalCheckpoints: z
          .object({ dir: z.string().min(1).nullable().default('.data/audit-checkpoints') })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(['error', 'warn', 'info', 'http', 'debug', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
    demo: z
      .object({
        /** Seed the demo data when the database has no accounts (never honoured in production). */
        seedOnEmptyDatabase: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    /** Static clients in addition to those in the database (oidc-provider client metadata). */
    clients: z.array(staticClient).default([]),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

/** Environment variables and the setting each one overrides. */
export const ENVIRONMENT = {
  NODE_ENV: { path: 'env', type: 'string' },
  ISSUER: { path: 'issuer', type: 'string' },
  HOST: { path: 'host', type: 'string' },
  PORT: { path: 'port', type: 'number' },
  TRUST_PROXY: { path: 'proxy', type: 'boolean' },
  DATABASE_URL: { path: 'database.url', type: 'string' },
  DATABASE_MIGRATION_URL: { path: 'database.migrationUrl', type: 'string' },
  DATABASE_POOL_SIZE: { path: 'database.poolSize', type: 'number' },
  EMBEDDED_POSTGRES_DIR: { path: 'database.embeddedDir', type: 'string' },
  KEY_ENCRYPTION_KEYS: { path: 'secrets.keyEncryptionKeys', type: 'list' },
  COOKIE_KEYS: { path: 'secrets.cookieKeys', type: 'list' },
  BCRYPT_COST: { path: 'security.bcryptCost', type: 'number' },
  REDIS_URL: { path: 'rateLimits.redisUrl', type: 'string' },
  REDIS_KEY_PREFIX: { path: 'rateLimits.redisKeyPrefix', type: 'string' },
  LOG_LEVEL: { path: 'log.level', type: 'string' },
  AUDIT_CHECKPOINT_DIR: { path: 'audit.externalCheckpoints.dir', type: 'string' },
  SEED_DEMO: { path: 'demo.seedOnEmptyDatabase', type: 'boolean' },
  MAIL_ENABLED: { path: 'mail.enabled', type: 'boolean' },
  SMTP_URL: { path: 'mail.smtpUrl', type: 'string' },
  MAIL_FROM: { path: 'mail.from', type: 'string' },
} as const satisfies Record<string, { path: string; type: 'string' | 'number' | 'boolean' | 'list' }>;
