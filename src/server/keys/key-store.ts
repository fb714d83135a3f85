/**
 * Signing keys in the database, shared by every instance. Private parts are
 * sealed at rest. Rotation is staged: publish → activate → retire.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from 'jose';
import type { DataSource, EntityManager } from 'typeorm';
import type { Sealer } from '../secrets/sealer.js';
import { SIGNING_ALGS, SigningKey, type SigningAlg, type SigningKeyStatus } from './signing-key.entity.js';

export class KeyRotationError extends Error {
  override name = 'KeyRotationError';
}

/** Serialises key changes across instances (first start, rotation). */
const KEY_LOCK = 0x6265_6b31; // "bek1"

/**
 * `<alg>-<thumbprint>-<random>`: the thumbprint makes it collision-free, the
 * random suffix keeps re-imports distinct, and the alg in front keeps it from
 * starting with '-' (base64url thumbprints do, one time in 64), which the CLI
 * (`keys activate <kid>`) would read as an unknown option.
 */
export function signingKeyId(alg: SigningAlg, thumbprint: string, random: string): string {
  return `${alg.toLowerCase()}-${thumbprint.slice(0, 22)}-${random}`;
}

async function newKey(manager: EntityManager, sealer: Sealer, alg: SigningAlg, status: SigningKeyStatus): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const privateJwk = await exportJWK(privateKey);
  const kid = signingKeyId(alg, await calculateJwkThumbprint(privateJwk), randomUUID().slice(0, 8));
  const jwk: JWK = { ...privateJwk, kid, alg, use: 'sig' };
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
  const row = manager.create(SigningKey, {
    kid,
    alg,
    status,
    publicJwk: publicJwk as Record<string, unknown>,
    privateJwkEncrypted: await sealer.seal(JSON.stringify(jwk)),
    activatedAt: status === 'active' ? new Date() : null,
    retiredAt: null,
  });
  await manager.save(SigningKey, row);
  return row;
}

async function locked<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  return dataSource.transaction(async (manager) => {
    await manager.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK]);
    return work(manager);
  });
}

/** Makes sure each algorithm has a signing key; generates the missing ones (first start). */
export async function ensureSigningKeys(dataSource: DataSource, sealer: Sealer): Promise<SigningKey[]> {
  return locked(dataSource, async (manager) => {
    const created: SigningKey[] = [];
    for (const alg of SIGNING_ALGS) {
      const active = await manager.findOneBy(SigningKey, { alg, status: 'active' });
      if (!active) created.push(await newKey(manager, sealer, alg, 'active'));
    }
    return created;
  });
}

/** Stage 1: a new key appears in JWKS but does not sign yet. */
export async function publishKey(dataSource: DataSource, sealer: Sealer, alg: SigningAlg): Promise<SigningKey> {
  return locked(dataSource, (manager) => newKey(manager, sealer, alg, 'published'));
}

/** Stage 2: the key signs; the previous signer stays in JWKS (inactive) for outstanding tokens. */
export async function activateKey(dataSource: DataSource, kid: string): Promise<SigningKey> {
  return locked(dataSource, async (manager) => {
    const key = await manager.findOneBy(SigningKey, { kid });
    if (!key) throw new KeyRotationError(`no signing key ${kid}`);
    if (key.status === 'active') return key;
    if (key.status === 'retired') throw new KeyRotationError(`key ${kid} is retired and cannot sign again`);
    await manager.update(SigningKey, { alg: key.alg, status: 'active' }, { status: 'inactive' });
    await manager.update(SigningKey, { kid }, { status: 'active', activatedAt: new Date() });
    return (await manager.findOneBy(SigningKey, { kid }))!;
  });
}

/** Stage 3: the key leaves JWKS. The active signer cannot be retired. */
export async function retireKey(dataSource: DataSource, kid: string): Promise<SigningKey> {
  return locked(dataSource, async (manager) => {
    const key = await manager.findOneBy(SigningKey, { kid });
    if (!key) throw new KeyRotationError(`no signing key ${kid}`);
    if (key.status === 'active') throw new KeyRotationError(`key ${kid} is signing; activate another ${key.alg} key first`);
    await manager.update(SigningKey, { kid }, { status: 'retired', retiredAt: new Date() });
    return (await manager.findOneBy(SigningKey, { kid }))!;
  });
}

/**
 * Re-seals every private key (retired ones too) with the current key-encryption
 * key, so an old KEK can be dropped after `keys rewrap`; returns how many changed.
 * Mirrors ClientRepository.rewrap. Under the key lock so a concurrent rotation cannot
 * write a row this would overwrite.
 */
export async function rewrapSigningKeys(dataSource: DataSource, sealer: Sealer): Promise<number> {
  return locked(dataSource, async (manager) => {
    const rows = await manager.getRepository(SigningKey).createQueryBuilder('key').addSelect('key.privateJwkEncrypted').getMany();
    let changed = 0;
    for (const row of rows) {
      if (!row.privateJwkEncrypted || !sealer.needsRewrap(row.privateJwkEncrypted)) continue;
      const sealed = await sealer.seal(await sealer.open(row.privateJwkEncrypted));
      await manager.update(SigningKey, { kid: row.kid }, { privateJwkEncrypted: sealed });
      changed += 1;
    }
    return changed;
  });
}

export async function listKeys(dataSource: DataSource): Promise<SigningKey[]> {
  return dataSource.getRepository(SigningKey).find({ order: { createdAt: 'ASC' } });
}

/**
 * Public JWKs of the signing keys: those still in use (to verify tokens Behalf issued), or every
 * one ever made, retired included (old audit checkpoints stay verifiable).
 */
export async function publicKeys(dataSource: DataSource, which: 'in-use' | 'all' = 'in-use'): Promise<{ keys: JWK[] }> {
  const rows = (await dataSource.query(
    which === 'all'
      ? `SELECT public_jwk FROM signing_key ORDER BY created_at`
      : `SELECT public_jwk FROM signing_key WHERE status <> 'retired' ORDER BY created_at`,
  )) as { public_jwk: JWK }[];
  return { keys: rows.map((row) => row.public_jwk) };
}

export interface Keystore {
  /** Private JWKs for oidc-provider: signers first, staged and inactive ones verify-only. */
  jwks: { keys: JWK[] };
  /** Changes whenever any key's status changes; instances compare it to notice rotations. */
  fingerprint: string;
}

export async function keysFingerprint(dataSource: DataSource): Promise<string> {
  const [row] = (await dataSource.query(
    `SELECT coalesce(string_agg(kid || ':' || status, ',' ORDER BY kid COLLATE "C"), '') AS fingerprint FROM signing_key WHERE status <> 'retired'`,
  )) as { fingerprint: string }[];
  return row!.fingerprint;
}

export async function loadKeystore(dataSource: DataSource, sealer: Sealer): Promise<Keystore> {
  const rows = await dataSource
    .getRepository(SigningKey)
    .createQueryBuilder('key')
    .addSelect('key.privateJwkEncrypted')
    .where(`key.status <> 'retired'`)
    .orderBy(`CASE key.status WHEN 'active' THEN 0 WHEN 'published' THEN 1 ELSE 2 END`)
    .addOrderBy('key.createdAt', 'DESC')
    .getMany();
  const keys: JWK[] = [];
  for (const row of rows) {
    const jwk = JSON.parse(await sealer.open(row.privateJwkEncrypted!)) as JWK;
    keys.push(row.status === 'active' ? jwk : { ...jwk, key_ops: ['verify'] });
  }
  const fingerprint = rows
    .map((row) => `${row.kid}:${row.status}`)
    .sort()
    .join(',');
  return { jwks: { keys }, fingerprint };
}
