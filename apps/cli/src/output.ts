/** Output for people (aligned tables) and for scripts (`--json`). */
import type { Writable } from 'node:stream';

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | bigint | boolean | null | undefined;
  /** Right-align (numbers). */
  align?: 'left' | 'right';
}

function cell(v: string | number | bigint | boolean | null | undefined): string {
  if (v === null || v === undefined || v === '') return '-';
  return typeof v === 'string' ? v : String(v);
}

/** An aligned plain-text table; `-` stands for an empty cell. */
export function renderTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (vals: readonly string[]): string =>
    vals
      .map((v, i) => (columns[i]!.align === 'right' ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n');
}

/** JSON for scripts: bigints as decimal strings, Buffers as hex, one document per call. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
        return Buffer.from((v as { data: number[] }).data).toString('hex');
      }
      return v;
    },
    2,
  );
}

export class Output {
  constructor(
    readonly json: boolean,
    private readonly out: Writable,
  ) {}

  /** Prints rows as a table, or the `data` (rows when omitted) as JSON with --json. */
  table<T>(columns: readonly Column<T>[], rows: readonly T[], data: unknown = rows): void {
    this.out.write(`${this.json ? toJson(data) : rows.length === 0 ? '(none)' : renderTable(columns, rows)}\n`);
  }

  /** Prints a message for people, or `data` as JSON with --json. */
  result(text: string, data: unknown): void {
    this.out.write(`${this.json ? toJson(data) : text}\n`);
  }
}
