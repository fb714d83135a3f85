/**
 * Loads, merges and validates the configuration once, at start-up.
 * A mistake becomes one `ConfigError` line naming the setting (and the
 * environment variable that feeds it), never a stack trace.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configSchema, ENVIRONMENT, type Config } from './schema.js';

export type { Config } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Development-only fallbacks: public, so production refuses them. */
export const DEVELOPMENT_KEY_ENCRYPTION_KEY = 'ZGV2ZWxvcG1lbnQtb25seS1rZWstZG8tbm90LXVzZTA';
export const DEVELOPMENT_COOKIE_KEY = 'development-only-cookie-key-do-not-use-in-production';

type Json = Record<string, unknown>;

/** The project root, found from this file whether it runs from src or dist. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new ConfigError('config: cannot find the project root (package.json)');
    dir = parent;
  }
  return dir;
}

function readJsonFile(path: string, label: string): Json {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(`config: cannot read ${label} (${path})`);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as Json;
  } catch (error) {
    throw new ConfigError(`config: ${label} (${path}) is not a JSON object: ${(error as Error).message}`);
  }
}

function isPlainObject(value: unknown): value is Json {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function deepMerge(target: Json, source: Json): Json {
  const out: Json = { ...target };
  for (const [key, value] of Object.entries(source)) {
    out[key] = isPlainObject(value) && isPlainObject(out[key]) ? deepMerge(out[key] as Json, value) : value;
  }
  return out;
}

function setPath(target: Json, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(node[part])) node[part] = {};
    node = node[part] as Json;
  }
  node[parts.at(-1)!] = value;
}

/** Converts one variable's text; a mistake names the setting and the variable, like schema errors do. */
function parseEnvValue(name: string, path: string, raw: string, type: 'string' | 'number' | 'boolean' | 'list'): unknown {
  switch (type) {
    case 'string':
      return raw;
    case 'number': {
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value))
        throw new ConfigError(`config: ${path} (${name}): must be a number, got ${JSON.stringify(raw)}`);
      return value;
    }
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new ConfigError(`config: ${path} (${name}): must be true or false, got ${JSON.stringify(raw)}`);
    case 'list':
      return raw
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
  }
}

function envNameFor(path: string): string | undefined {
  return Object.entries(ENVIRONMENT).find(([, spec]) => path === spec.path || path.startsWith(`${spec.path}.`))?.[0];
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((key) => (path ? `${path}.${key}` : key));
    return `config: unknown setting ${keys.join(', ')}`;
  }
  const env = envNameFor(path);
  return `config: ${path || '(root)'}${env ? ` (${env})` : ''}: ${issue.message}`;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Extra settings layered over the files and under the environment (tests). */
  overrides?: Json;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const mode = env.NODE_ENV ?? 'development';
  if (!['development', 'production', 'test'].includes(mode)) {
    throw new ConfigError(`config: env (NODE_ENV): must be development, production or test, got ${JSON.stringify(mode)}`);
  }

  const unknownEnv = Object.keys(env).filter((name) => name.startsWith('BEHALF_') && name !== 'BEHALF_CONFIG_FILE');
  if (unknownEnv.length > 0) throw new ConfigError(`config: unknown environment variable ${unknownEnv.join(', ')}`);

  let raw: Json = {};
  const envFile = join(projectRoot(), 'config', `${mode}.json`);
  if (existsSync(envFile)) raw = deepMerge(raw, readJsonFile(envFile, `config/${mode}.json`));
  if (env.BEHALF_CONFIG_FILE) raw = deepMerge(raw, readJsonFile(resolve(env.BEHALF_CONFIG_FILE), 'BEHALF_CONFIG_FILE'));
  if (options.overrides) raw = deepMerge(raw, options.overrides);
  for (const [name, spec] of Object.entries(ENVIRONMENT)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, spec.path, parseEnvValue(name, spec.path, value, spec.type));
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(describeIssue(parsed.error.issues[0]!));
  const config = parsed.data;
  config.issuer = config.issuer.replace(/\/+$/, '');
  // Relative folders are the project's, wherever the process was started (the CLI from a
  // subfolder, a linked `behalf` binary): never a second, empty database beside the caller.
  config.database.embeddedDir = resolve(projectRoot(), config.database.embeddedDir);
  const checkpoints = config.audit.externalCheckpoints;
  if (checkpoints.dir) checkpoints.dir = resolve(projectRoot(), checkpoints.dir);
  checkIssuer(config.issuer);
  return applySecretDefaults(config);
}

function checkIssuer(issuer: string): void {
  const url = new URL(issuer);
  if (url.search || url.hash) throw new ConfigError('config: issuer (ISSUER): must not have a query or fragment');
}

/** Production must bring its own secrets; elsewhere public development ones stand in. */
function applySecretDefaults(config: Config): Config {
  const { secrets } = config;
  if (config.env === 'production') {
    if (secrets.keyEncryptionKeys.length === 0) {
      throw new ConfigError(
        'config: secrets.keyEncryptionKeys (KEY_ENCRYPTION_KEYS): required in production; generate one with `npm run cli -- keys generate-secret`',
      );
    }
    if (secrets.keyEncryptionKeys.includes(DEVELOPMENT_KEY_ENCRYPTION_KEY)) {
      throw new ConfigError(
        'config: secrets.keyEncryptionKeys (KEY_ENCRYPTION_KEYS): the development key is public and refused in production',
      );
    }
    if (secrets.cookieKeys.length === 0) {
      throw new ConfigError(
        'config: secrets.cookieKeys (COOKIE_KEYS): required in production (comma-separated, at least 32 characters each)',
      );
    }
    if (secrets.cookieKeys.includes(DEVELOPMENT_COOKIE_KEY)) {
      throw new ConfigError('config: secrets.cookieKeys (COOKIE_KEYS): the development key is public and refused in production');
    }
    if (config.security.bcryptCost < 12) {
      throw new ConfigError('config: security.bcryptCost (BCRYPT_COST): must be at least 12 in production');
    }
    if (!config.issuer.startsWith('https://')) {
      throw new ConfigError('config: issuer (ISSUER): must be an https:// URL in production');
    }
    if (config.mail.enabled && !config.mail.smtpUrl)
      throw new ConfigError('config: mail.smtpUrl (SMTP_URL): required in production while mail.enabled (MAIL_ENABLED) is on');
    return config;
  }
  return {
    ...config,
    secrets: {
      keyEncryptionKeys: secrets.keyEncryptionKeys.length ? secrets.keyEncryptionKeys : [DEVELOPMENT_KEY_ENCRYPTION_KEY],
      cookieKeys: secrets.cookieKeys.length ? secrets.cookieKeys : [DEVELOPMENT_COOKIE_KEY],
    },
  };
}

/** True when the configuration runs on the public development secrets (worth a loud warning). */
export function usesDevelopmentSecrets(config: Config): boolean {
  return (
    config.secrets.keyEncryptionKeys.includes(DEVELOPMENT_KEY_ENCRYPTION_KEY) || config.secrets.cookieKeys.includes(DEVELOPMENT_COOKIE_KEY)
  );
}
