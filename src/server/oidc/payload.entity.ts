import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One oidc-provider model instance (session, grant, code, token, interaction, …). */
@Entity('oidc_payload')
export class OidcPayload {
  @PrimaryColumn('varchar', { length: 64 }) model!: string;
  @PrimaryColumn('varchar', { length: 256 }) id!: string;
  @Column('jsonb') payload!: Record<string, unknown>;
  @Column('varchar', { name: 'grant_id', length: 256, nullable: true }) grantId!: string | null;
  @Column('varchar', { length: 256, nullable: true }) uid!: string | null;
  @Column('varchar', { name: 'user_code', length: 256, nullable: true }) userCode!: string | null;
  @Column('timestamptz', { name: 'expires_at', nullable: true }) expiresAt!: Date | null;
  @Column('timestamptz', { name: 'consumed_at', nullable: true }) consumedAt!: Date | null;
}
