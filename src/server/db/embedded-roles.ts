/**
 * The embedded cluster's two roles: its superuser, which owns Behalf's
 * tables and runs migrations, and an unprivileged runtime role the app serves
 * with. Their passwords live in `behalf-credentials.json` (mode 0600); folders
 * from versions that knew only the superuser gain the runtime role on their
 * next start.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

export interface RoleCredentials {
  user: string;
  password: string;
}

export interface EmbeddedCredentials extends RoleCredentials {
  runtime: RoleCredentials;
}

const FILE = 'behalf-credentials.json';
/** Serialises role set-up across processes starting on one cluster ("bm1r"). */
const ROLE_LOCK = 0x626d_3172;

/**
 * Derived from the owner's password, so two processes upgrading one folder at
 * once agree on it without coordinating. Knowing it reveals nothing of the owner's.
 */
function runtimeCredentials(owner: RoleCredentials): RoleCredentials {
  return {
    user: `${owner.user}_runtime`,
    password: createHmac('sha256', owner.password).update('behalf runtime role').digest('base64url'),
  };
}

function writeCredentials(file: string, credentials: EmbeddedCredentials): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(credentials), { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

/** Reads the credentials of `dir`'s cluster, creating them (or adding the runtime role's) when missing. */
export function readEmbeddedCredentials(dir: string): EmbeddedCredentials {
  const file = join(dir, FILE);
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as RoleCredentials & Partial<EmbeddedCredentials>;
    if (stored.runtime) return stored as EmbeddedCredentials;
    const upgraded = { ...stored, runtime: runtimeCredentials(stored) };
    writeCredentials(file, upgraded);
    return upgraded;
  }
  const owner = { user: 'behalf', password: randomBytes(18).toString('base64url') };
  const credentials = { ...owner, runtime: runtimeCredentials(owner) };
  writeCredentials(file, credentials);
  return credentials;
}

/**
 * Creates the runtime role, or puts an existing one back in shape: able to log
 * in with the stored password, and nothing more (its table privileges come
 * with migrations, runtime-grants.ts). `superuserUrl` names any database.
 */
export async function ensureRuntimeRole(superuserUrl: string, runtime: RoleCredentials): Promise<void> {
  const client = new pg.Client({ connectionString: superuserUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [ROLE_LOCK]);
    const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [runtime.user]);
    const role = client.escapeIdentifier(runtime.user);
    if (!rowCount) await client.query(`CREATE ROLE ${role}`);
    await client.query(
      `ALTER ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${client.escapeLiteral(runtime.password)}`,
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
