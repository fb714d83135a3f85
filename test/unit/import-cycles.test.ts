/**
 * No import cycle anywhere in src/, type-only imports included: a cycle makes
 * load order matter (a class undefined at decoration time, a constant read
 * before it is set) and ties modules that should be separate into one.
 * Static `import … from` / `export … from` of relative paths are counted;
 * dynamic `import()` is lazy by design and is not.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(process.cwd(), 'src');
const STATIC_IMPORT = /^(?:import|export)\s[^;]*?\sfrom\s+'(\.{1,2}\/[^']+)';/gms;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function resolveImport(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier.replace(/\.js$/, ''));
  return [`${base}.ts`, join(base, 'index.ts')].find((candidate) => existsSync(candidate));
}

/** Tarjan's strongly connected components: every component of more than one module is a cycle. */
export function cyclesOf(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) cycles.push(component);
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

it('finds a cycle when there is one (the check itself works)', () => {
  expect(
    cyclesOf(
      new Map([
        ['a', ['b']],
        ['b', ['c']],
        ['c', ['a']],
        ['d', ['a']],
      ]),
    ),
  ).toEqual([['c', 'b', 'a']]);
  expect(
    cyclesOf(
      new Map([
        ['a', ['b']],
        ['b', []],
      ]),
    ),
  ).toEqual([]);
});

it('src/ has no import cycle', () => {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const imports = [...readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)]
      .map((match) => resolveImport(file, match[1]!))
      .filter((path): path is string => !!path);
    graph.set(file, imports);
  }
  expect(graph.size).toBeGreaterThan(100);
  expect(cyclesOf(graph).map((cycle) => cycle.map((file) => relative(SRC, file)).sort())).toEqual([]);
});
