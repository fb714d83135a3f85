/** Plain-text rendering for humans; `--json` output bypasses all of this. */
import type { Command } from 'commander';

type Cell = string | number | boolean | null | undefined;

function text(cell: Cell): string {
  return cell === null || cell === undefined || cell === '' ? '-' : String(cell);
}

/** Column-aligned rows under a header line. */
export function table(headers: string[], rows: Cell[][]): string[] {
  const cells = [headers, ...rows.map((row) => row.map(text))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** `key: value` lines, keys aligned. */
export function fields(entries: [string, Cell | Cell[]][]): string[] {
  const width = Math.max(...entries.map(([key]) => key.length)) + 1;
  return entries.map(
    ([key, value]) =>
      `${`${key}:`.padEnd(width)} ${Array.isArray(value) ? (value.length ? value.map(text).join(', ') : '-') : text(value)}`,
  );
}

/** ISO time without milliseconds: precise enough for an operator, short enough for a table. */
export function when(date: Date | string | null | undefined): string | null {
  if (!date) return null;
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Lines that print a generated secret exactly once, and say so. */
export function shownOnce(label: 'client_secret' | 'password' | 'initial_access_token', secret: string): string[] {
  const kept = label === 'password' ? 'Behalf keeps only its hash' : 'Behalf keeps it encrypted and never prints it again';
  return [`${label}: ${secret}`, `This ${label} is shown only once: store it now (${kept}).`];
}

/** Appends an "Examples:" section to a command's help. */
export function examples(command: Command, ...lines: string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${lines.map((line) => `  $ npm run cli -- ${line}`).join('\n')}\n`);
}
