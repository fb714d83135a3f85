/**
 * Signed checkpoints of the chain head. A checkpoint is a JWT (ES256 or RS256,
 * via jose) over `{ table, seq, hash }`; exported outside the database it
 * proves what the chain looked like, so a truncated tail or a recomputed
 * chain no longer matches it.
 */
import { SignJWT, createLocalJWKSet, importJWK, jwtVerify, type JWK, type JSONWebKeySet } from 'jose';
import type { DataSource, EntityManager } from 'typeorm';
import type { ExternalCheckpointArchive } from './external-checkpoints.js';
import { assertAuditTableName } from './schema.js';
import { toCheckpoint, type CheckpointRow } from './rows.js';
import type { AuditCheckpoint } from './types.js';
import type { CheckpointVerifier } from './verify.js';

export const CHECKPOINT_TYP = 'behalf-audit-checkpoint+jwt';

export interface CheckpointSigner {
  sign(claims: { table: string; seq: number; hash: string }): Promise<string>;
}

/** Signs with a private JWK (which must carry `kid` and `alg`). */
export function jwkCheckpointSigner(privateJwk: JWK, issuer: string): CheckpointSigner {
  if (!privateJwk.kid || !privateJwk.alg) throw new Error('checkpoint signing key needs kid and alg');
  const keyPromise = importJWK(privateJwk, privateJwk.alg);
  return {
    async sign(claims) {
      return new SignJWT({ table: claims.table, seq: claims.seq, hash: claims.hash })
        .setProtectedHeader({ alg: privateJwk.alg!, kid: privateJwk.kid!, typ: CHECKPOINT_TYP })
        .setIssuer(issuer)
        .setIssuedAt()
        .sign(await keyPromise);
    },
  };
}

/** Verifies checkpoints against public keys (the issuer's, including retired ones). */
export function jwksCheckpointVerifier(jwks: JSONWebKeySet, issuer: string): CheckpointVerifier {
  const keys = createLocalJWKSet(jwks);
  return async (jws) => {
    const { payload } = await jwtVerify(jws, keys, { issuer, typ: CHECKPOINT_TYP, algorithms: ['ES256', 'RS256'] });
    if (typeof payload.table !== 'string' || typeof payload.seq !== 'number' || typeof payload.hash !== 'string') {
      throw new Error('checkpoint claims are malformed');
    }
    return { table: payload.table, seq: payload.seq, hash: payload.hash };
  };
}

/**
 * Seals the current head, unless it is already sealed. Returns the checkpoint,
 * or undefined for an empty chain. Instances racing here take turns (advisory lock).
 *
 * With an external store, the checkpoint is written there FIRST, then to the
 * database, in the same locked transaction: if the external write fails,
 * nothing is sealed (the caller retries later), so every checkpoint in the
 * database also exists outside it. The reverse order would leave heads
 * sealed only where a database writer can remove them. A crash between the
 * two leaves an external checkpoint the database lacks, which is harmless:
 * it signs rows that were already committed.
 */
export async function createCheckpoint(
  dataSource: DataSource,
  table: string,
  signer: CheckpointSigner,
  external?: ExternalCheckpointArchive,
): Promise<AuditCheckpoint | undefined> {
  const t = assertAuditTableName(table);
  return dataSource.transaction(async (manager: EntityManager) => {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`${t}_checkpoint`]);
    const [head] = (await manager.query(`SELECT seq, hash FROM ${t} WHERE hash IS NOT NULL ORDER BY seq DESC LIMIT 1`)) as {
      seq: string;
      hash: string;
    }[];
    if (!head) return undefined;
    const [last] = (await manager.query(`SELECT * FROM ${t}_checkpoint ORDER BY seq DESC, id DESC LIMIT 1`)) as CheckpointRow[];
    if (last && Number(last.seq) === Number(head.seq)) return toCheckpoint(last);
    const seq = Number(head.seq);
    const jws = await signer.sign({ table: t, seq, hash: head.hash });
    const createdAt = new Date();
    await external?.append({ table: t, seq, hash: head.hash, createdAt, jws });
    const [row] = (await manager.query(`INSERT INTO ${t}_checkpoint (seq, hash, created_at, jws) VALUES ($1, $2, $3, $4) RETURNING *`, [
      seq,
      head.hash,
      createdAt,
      jws,
    ])) as CheckpointRow[];
    return toCheckpoint(row!);
  });
}
