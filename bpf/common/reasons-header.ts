/**
 * The check every reason table's unit test makes against its C enum (the one source): the
 * header's `<prefix>NONE = 0`, then each reason with the table's name, value and trailing comment
 * `<outcome>: <description>`, then `<prefix>MAX`; the short names and the values 1..MAX-1 agree
 * with the list. For the tests only (nothing in the built package imports it):
 *
 *   const header = parseEnum(headerText('xlb_kern_user.h'), 'xlb_drop_reason');
 *   assert.deepEqual(reasonHeaderProblems({ prefix: 'XLB_DROP_', key: 'verdict', values: XLB_DROP,
 *     reasons: XLB_DROP_REASONS, max: XLB_DROP_MAX }, header), []);
 *
 * Pass what the package exports (not the builder's object), so that what consumers use is what
 * is checked. An empty list means they agree; otherwise one line a difference.
 */
import type { EnumEntry } from './header-text.js';

/** An entry of a C enum as the header parser (`parseEnum` of header-text.ts) returns it. */
export type HeaderEnumEntry = EnumEntry;

/** The exported pieces of one reason table. */
export interface ReasonTableExports {
  readonly prefix: string;
  /** The field holding the outcome (`verdict`, `path`). */
  readonly key: string;
  /** Value by short name. */
  readonly values: Readonly<Record<string, number>>;
  readonly reasons: readonly { readonly name: string; readonly value: number; readonly description: string }[];
  readonly max: number;
}

const show = (e: { readonly name: string; readonly value: number } | undefined): string => (e ? `${e.name} = ${e.value}` : 'nothing');

/** Every difference between the table and the enum's entries (empty when they agree). */
export function reasonHeaderProblems(table: ReasonTableExports, header: readonly HeaderEnumEntry[]): string[] {
  const { prefix, key, reasons, max } = table;
  const problems: string[] = [];
  const first = header[0];
  const last = header.at(-1);
  if (first?.name !== `${prefix}NONE` || first.value !== 0) problems.push(`header starts with ${show(first)}, expected ${prefix}NONE = 0`);
  if (last?.name !== `${prefix}MAX` || last.value !== max) problems.push(`header ends with ${show(last)}, expected ${prefix}MAX = ${max}`);
  const inHeader = header.slice(1, -1);
  for (let i = 0; i < Math.max(inHeader.length, reasons.length); i++) {
    const h = inHeader[i];
    const r = reasons[i];
    if (!h || !r) {
      problems.push(`reason ${i + 1}: header has ${show(h)}, the table ${show(r)}`);
      continue;
    }
    if (h.name !== r.name || h.value !== r.value) problems.push(`reason ${i + 1}: header has ${show(h)}, the table ${show(r)}`);
    const comment = `${String((r as Readonly<Record<string, unknown>>)[key])}: ${r.description}`;
    if (h.comment !== comment) problems.push(`${r.name}: header comment ${JSON.stringify(h.comment)}, the table ${JSON.stringify(comment)}`);
  }
  reasons.forEach((r, i) => {
    if (r.value !== i + 1) problems.push(`${r.name}: value ${r.value} at position ${i + 1} (values are 1..${prefix}MAX-1 without gaps)`);
  });
  if (reasons.length !== max - 1) problems.push(`${reasons.length} reasons, ${prefix}MAX - 1 = ${max - 1}`);
  const fromValues = Object.entries(table.values).map(([short, v]) => `${prefix}${short} = ${v}`);
  const fromReasons = reasons.map((r) => show(r));
  if (fromValues.join('\n') !== fromReasons.join('\n')) problems.push(`short names [${fromValues.join(', ')}] differ from the reasons [${fromReasons.join(', ')}]`);
  return problems;
}
