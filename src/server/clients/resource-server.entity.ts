import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type TokenFormat = 'jwt' | 'opaque';

/** An API that accepts Behalf's access tokens, named by its resource indicator (RFC 8707). */
@Entity('resource_server')
export class ResourceServer {
  @PrimaryColumn('varchar', { length: 2000 }) identifier!: string;
  @Column('varchar', { length: 200 }) name!: string;
  /** Logical names usable as RFC 8693 `audience` instead of the URI (a client id among them, if wanted). */
  @Column('text', { array: true, default: () => "'{}'" }) aliases!: string[];
  @Column('varchar', { name: 'token_format', length: 16, default: 'jwt' }) tokenFormat!: TokenFormat;
  @Column('text', { array: true, default: () => "'{}'" }) scopes!: string[];
  @Column('integer', { name: 'access_token_ttl', nullable: true }) accessTokenTtl!: number | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
