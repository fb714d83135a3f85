/**
 * Whether a database role is fit to serve Behalf in production. Pure: the
 * facts come from runtime-role-facts.ts. A role that is a superuser, owns an
 * audit table, or can act as its owner could switch the append-only triggers
 * off and rewrite the trail with a recomputed chain.
 */
export interface AuditTableFacts {
  table: string;
  owner: string;
  /** The role owns the table or is a member of its owner (can SET ROLE to it). */
  actsAsOwner: boolean;
}

export interface RuntimeRoleFacts {
  role: string;
  superuser: boolean;
  /** CREATEROLE: before PostgreSQL 16 it can grant itself membership in the owner. */
  createRole: boolean;
  /** The audit tables found in the current schema. */
  auditTables: AuditTableFacts[];
}

export const REQUIRED_AUDIT_TABLES = ['audit_event', 'audit_event_checkpoint'] as const;

/** What makes the role unfit, each as a short phrase; empty when it is fit. */
export function runtimeRoleProblems(facts: RuntimeRoleFacts): string[] {
  const problems: string[] = [];
  if (facts.superuser) problems.push('is a superuser');
  if (facts.createRole) problems.push('has CREATEROLE');
  for (const table of facts.auditTables) {
    if (table.owner === facts.role) problems.push(`owns ${table.table}`);
    else if (table.actsAsOwner) problems.push(`is a member of ${table.owner}, the owner of ${table.table}`);
  }
  for (const table of REQUIRED_AUDIT_TABLES) {
    if (!facts.auditTables.some((found) => found.table === table)) problems.push(`cannot see ${table} (migrations not applied?)`);
  }
  return problems;
}

/** The one line production refuses to start with, or undefined when the role is fit. */
export function describeRuntimeRoleRefusal(facts: RuntimeRoleFacts): string | undefined {
  const problems = runtimeRoleProblems(facts);
  if (problems.length === 0) return undefined;
  return (
    `database role ${facts.role} ${problems.join(', ')}: refused in production, where Behalf must run as a role that can only append to the audit trail; ` +
    'set DATABASE_URL to the runtime role and DATABASE_MIGRATION_URL to the owner (README, Security: Database roles)'
  );
}
