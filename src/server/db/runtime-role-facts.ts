/** Gathers, as the connected role, the facts runtime-role-policy.ts judges. */
import type { DataSource } from 'typeorm';
import { REQUIRED_AUDIT_TABLES, type RuntimeRoleFacts } from './runtime-role-policy.js';

interface Row {
  role: string;
  superuser: boolean;
  create_role: boolean;
  tables: { table: string; owner: string; acts_as_owner: boolean }[] | null;
}

export async function runtimeRoleFacts(dataSource: DataSource): Promise<RuntimeRoleFacts> {
  const [row] = (await dataSource.query(
    `SELECT r.rolname AS role, r.rolsuper AS superuser, r.rolcreaterole AS create_role,
            (SELECT json_agg(json_build_object('table', c.relname, 'owner', o.rolname, 'acts_as_owner', pg_has_role(r.oid, c.relowner, 'MEMBER')) ORDER BY c.relname)
               FROM pg_class c JOIN pg_roles o ON o.oid = c.relowner
              WHERE c.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = current_schema()) AND c.relkind IN ('r', 'p') AND c.relname = ANY($1)) AS tables
       FROM pg_roles r WHERE r.rolname = current_user`,
    [REQUIRED_AUDIT_TABLES],
  )) as Row[];
  if (!row) throw new Error('the current role is missing from pg_roles');
  return {
    role: row.role,
    superuser: row.superuser,
    createRole: row.create_role,
    auditTables: (row.tables ?? []).map((table) => ({ table: table.table, owner: table.owner, actsAsOwner: table.acts_as_owner })),
  };
}
