import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export const SIGNING_ALGS = ['ES256', 'RS256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/**
 * Key life cycle, staged so no verifier ever meets an unknown kid:
 * published (in JWKS, not signing) → active (signs) → inactive (in JWKS for
 * outstanding tokens, not signing) → retired (gone from JWKS).
 */
export type SigningKeyStatus = 'published' | 'active' | 'inactive' | 'retired';

@Entity('signing_key')
export class SigningKey {
  @PrimaryColumn('varchar', { length: 64 }) kid!: string;
  @Column('varchar', { length: 16 }) alg!: SigningAlg;
  @Column('varchar', { length: 16 }) status!: SigningKeyStatus;
  @Column('jsonb', { name: 'public_jwk' }) publicJwk!: Record<string, unknown>;
  @Column('text', { name: 'private_jwk_encrypted', select: false }) privateJwkEncrypted?: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column('timestamptz', { name: 'activated_at', nullable: true }) activatedAt!: Date | null;
  @Column('timestamptz', { name: 'retired_at', nullable: true }) retiredAt!: Date | null;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
