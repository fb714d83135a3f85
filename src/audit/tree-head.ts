/**
 * Signed tree heads (RFC 9162 §4.10 in spirit: tree size, root hash, time,
 * signature) as compact JWS via jose, with the issuer's keys: anyone holding
 * the published public keys can check a head, offline.
 */
import { SignJWT, createLocalJWKSet, importJWK, jwtVerify, type JWK, type JSONWebKeySet } from 'jose';

export const TREE_HEAD_TYP = 'behalf-audit-tree-head+jwt';

export interface TreeHeadClaims {
  table: string;
  treeSize: number;
  rootHash: string;
}

export interface TreeHeadSigner {
  sign(claims: TreeHeadClaims): Promise<string>;
}

export type TreeHeadVerifier = (jws: string) => Promise<TreeHeadClaims & { issuedAt: Date }>;

/** Signs with a private JWK (which must carry `kid` and `alg`). */
export function jwkTreeHeadSigner(privateJwk: JWK, issuer: string): TreeHeadSigner {
  if (!privateJwk.kid || !privateJwk.alg) throw new Error('tree head signing key needs kid and alg');
  const keyPromise = importJWK(privateJwk, privateJwk.alg);
  return {
    async sign(claims) {
      return new SignJWT({ table: claims.table, tree_size: claims.treeSize, root_hash: claims.rootHash })
        .setProtectedHeader({ alg: privateJwk.alg!, kid: privateJwk.kid!, typ: TREE_HEAD_TYP })
        .setIssuer(issuer)
        .setIssuedAt()
        .sign(await keyPromise);
    },
  };
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Verifies heads against public keys (the issuer's, retired ones included).
 * Without `issuer`, any `iss` is accepted: the keys alone say whose heads they
 * are (a log whose issuer URL changed over its life keeps verifying).
 */
export function jwksTreeHeadVerifier(jwks: JSONWebKeySet, issuer: string | undefined): TreeHeadVerifier {
  const keys = createLocalJWKSet(jwks);
  return async (jws) => {
    const { payload } = await jwtVerify(jws, keys, {
      ...(issuer ? { issuer } : {}),
      typ: TREE_HEAD_TYP,
      algorithms: ['ES256', 'RS256', 'EdDSA'],
    });
    const { table, tree_size: treeSize, root_hash: rootHash, iat } = payload;
    if (
      typeof table !== 'string' ||
      typeof treeSize !== 'number' ||
      !Number.isSafeInteger(treeSize) ||
      treeSize < 1 ||
      typeof rootHash !== 'string' ||
      !HEX64.test(rootHash) ||
      typeof iat !== 'number'
    ) {
      throw new Error('tree head claims are malformed');
    }
    return { table, treeSize, rootHash, issuedAt: new Date(iat * 1000) };
  };
}
