/** Which database roles production accepts as Behalf's runtime role, and the grants that role gets. */
import { describeRuntimeRoleRefusal, runtimeRoleProblems, type RuntimeRoleFacts } from '../../src/server/db/runtime-role-policy.js';
import { runtimeGrantStatements } from '../../src/server/db/runtime-grants.js';

function facts(extra: Partial<RuntimeRoleFacts> = {}): RuntimeRoleFacts {
  return {
    role: 'behalf_runtime',
    superuser: false,
    createRole: false,
    auditTables: [
      { table: 'audit_event', owner: 'behalf_owner', actsAsOwner: false },
      { table: 'audit_event_checkpoint', owner: 'behalf_owner', actsAsOwner: false },
    ],
    ...extra,
  };
}

describe('runtimeRoleProblems', () => {
  it('accepts a role that neither is a superuser nor owns the audit tables', () => {
    expect(runtimeRoleProblems(facts())).toEqual([]);
    expect(describeRuntimeRoleRefusal(facts())).toBeUndefined();
  });

  it('refuses a superuser', () => {
    expect(runtimeRoleProblems(facts({ superuser: true }))).toEqual(['is a superuser']);
  });

  it('refuses the owner of an audit table, and a member of that owner', () => {
    const owner = facts({ role: 'behalf_owner', auditTables: facts().auditTables.map((table) => ({ ...table, actsAsOwner: true })) });
    expect(runtimeRoleProblems(owner)).toEqual(['owns audit_event', 'owns audit_event_checkpoint']);
    const member = facts({ auditTables: [{ table: 'audit_event', owner: 'behalf_owner', actsAsOwner: true }, facts().auditTables[1]!] });
    expect(runtimeRoleProblems(member)).toEqual(['is a member of behalf_owner, the owner of audit_event']);
  });

  it('refuses CREATEROLE, which can grant itself the owner before PostgreSQL 16', () => {
    expect(runtimeRoleProblems(facts({ createRole: true }))).toEqual(['has CREATEROLE']);
  });

  it('refuses when the audit tables cannot be seen', () => {
    expect(runtimeRoleProblems(facts({ auditTables: [] }))).toEqual([
      'cannot see audit_event (migrations not applied?)',
      'cannot see audit_event_checkpoint (migrations not applied?)',
    ]);
  });

  it('says it all in one line that names the fix', () => {
    const line = describeRuntimeRoleRefusal(
      facts({
        role: 'postgres',
        superuser: true,
        auditTables: facts().auditTables.map((table) => ({ ...table, owner: 'postgres', actsAsOwner: true })),
      }),
    )!;
    expect(line).not.toContain('\n');
    expect(line).toMatch(/^database role postgres is a superuser, owns audit_event, owns audit_event_checkpoint: refused in production/);
    expect(line).toContain('DATABASE_MIGRATION_URL');
  });
});

describe('runtimeGrantStatements', () => {
  const statements = runtimeGrantStatements('behalf_runtime');
  const on = (table: string) => statements.filter((statement) => statement.includes(`"public"."${table}"`));

  it('gives application tables plain DML and sequences USAGE', () => {
    expect(statements).toContain('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "public" TO "behalf_runtime"');
    expect(statements).toContain('GRANT USAGE ON ALL SEQUENCES IN SCHEMA "public" TO "behalf_runtime"');
  });

  it('narrows the audit tables back: read the events, append checkpoints, nothing else', () => {
    expect(on('audit_event')).toEqual([
      'REVOKE ALL ON TABLE "public"."audit_event" FROM "behalf_runtime"',
      'GRANT SELECT ON TABLE "public"."audit_event" TO "behalf_runtime"',
    ]);
    expect(on('audit_event_checkpoint')).toEqual([
      'REVOKE ALL ON TABLE "public"."audit_event_checkpoint" FROM "behalf_runtime"',
      'GRANT SELECT, INSERT ON TABLE "public"."audit_event_checkpoint" TO "behalf_runtime"',
    ]);
    expect(statements.some((statement) => /GRANT EXECUTE ON FUNCTION "public"\.audit_event_append\(/.test(statement))).toBe(true);
    // The narrowing comes after the broad grant, or the broad grant would win.
    expect(statements.findIndex((s) => s.startsWith('REVOKE ALL ON TABLE "public"."audit_event"'))).toBeGreaterThan(
      statements.findIndex((s) => s.includes('ON ALL TABLES')),
    );
  });

  it('quotes the role name', () => {
    expect(runtimeGrantStatements('we"ird').at(-1)).toContain('TO "we""ird"');
  });
});
