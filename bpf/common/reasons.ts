/**
 * The one builder of the BPF programs' reason tables (xlb's drop reasons, NetCRAQ's, Electrode's
 * and the sidecar's). Each C header has `enum <x>_reason { <P>NONE = 0, <P>A = 1, /* <outcome>:
 * <description> *\/ …, <P>MAX }` and a per-CPU counter array indexed by the value; the module
 * beside it lists the reasons in value order with full names, and gets from here:
 *
 *   const table = reasonTable({ prefix: 'XLB_DROP_', key: 'verdict', outcomes: ['pass', 'drop', 'tx'] }, [
 *     { name: 'XLB_DROP_TRUNCATED', value: 1, verdict: 'pass', description: '…' }, …
 *   ]);
 *   table.values.TRUNCATED === 1; table.max === 2; table.byName('TRUNCATED')?.verdict === 'pass'
 *
 * `key` names the field that says what the data plane did (`verdict`, or the sidecar's `path`),
 * `outcomes` its allowed values. The list is checked once, when the module loads: a name outside
 * the prefix, a value out of order or leaving a gap (the counters are an array), an outcome not
 * allowed or an empty description throws a RangeError naming the entry. reasons-header.ts
 * checks a table against its C enum, entry by entry, for the unit tests.
 */

/** One reason: full name, value, what the data plane did (field `K`) and a description. */
export type Reason<K extends string, V extends string> = {
  readonly name: string;
  readonly value: number;
  readonly description: string;
} & { readonly [F in K]: V };

/** `N` without the prefix `P` (never when `N` does not start with it). */
type ShortName<P extends string, N> = N extends `${P}${infer S}` ? S : never;

export interface ReasonTableSpec<P extends string, K extends string, V extends string> {
  /** Every name's prefix (`XLB_DROP_`); `<prefix>NONE` (0) and `<prefix>MAX` complete the C enum. */
  readonly prefix: P;
  /** The field saying what the data plane did: `verdict`, `path`. */
  readonly key: K;
  /** The values that field may take. */
  readonly outcomes: readonly V[];
}

export interface ReasonTable<P extends string, K extends string, V extends string, S> {
  readonly prefix: P;
  readonly key: K;
  /** Value by short name, typed from the list (`{ readonly TRUNCATED: 1; … }`), frozen. */
  readonly values: S;
  /** Every reason but `<prefix>NONE`, in value order (1, 2, …), frozen. */
  readonly reasons: readonly Reason<K, V>[];
  /** `<prefix>MAX`: the entries of the counter array (the reasons and NONE). */
  readonly max: number;
  /** The reason with `value`, or undefined (0 and out-of-range values have none). */
  byValue(value: number): Reason<K, V> | undefined;
  /** The reason called `name`, full (`XLB_DROP_FRAGMENT`) or short (`FRAGMENT`), or undefined. */
  byName(name: string): Reason<K, V> | undefined;
}

/** Builds a reason table from its list (see the module's comment); throws RangeError on a bad entry. */
export function reasonTable<
  const P extends string,
  const K extends string,
  const V extends string,
  const L extends readonly Reason<K, NoInfer<V>>[],
>(
  spec: ReasonTableSpec<P, K, V>,
  list: L,
): ReasonTable<P, K, V, { readonly [E in L[number] as ShortName<P, E['name']>]: E['value'] }> {
  const { prefix, key, outcomes } = spec;
  if (!/^[A-Z][A-Z0-9_]*_$/.test(prefix)) throw new RangeError(`reason table: prefix ${JSON.stringify(prefix)} is not an upper-case C name ending in _`);
  const reasons: Reason<K, V>[] = [];
  const values: Record<string, number> = {};
  list.forEach((entry, i) => {
    const where = `${prefix}* reasons: entry ${i} (${entry.name})`;
    const short = entry.name.startsWith(prefix) ? entry.name.slice(prefix.length) : '';
    if (!/^[A-Z0-9][A-Z0-9_]*$/.test(short)) throw new RangeError(`${where}: the name is not ${prefix}<NAME>`);
    if (short === 'NONE' || short === 'MAX') throw new RangeError(`${where}: ${prefix}NONE and ${prefix}MAX are not reasons`);
    if (Object.hasOwn(values, short)) throw new RangeError(`${where}: the name is listed twice`);
    if (entry.value !== i + 1) throw new RangeError(`${where}: value ${entry.value}, expected ${i + 1} (values are counter indices: 1, 2, … in order, without gaps)`);
    const outcome = entry[key] as V;
    if (!outcomes.includes(outcome)) throw new RangeError(`${where}: ${key} ${JSON.stringify(outcome)} is not one of ${outcomes.join(', ')}`);
    if (typeof entry.description !== 'string' || entry.description.trim() === '') throw new RangeError(`${where}: no description`);
    reasons.push(Object.freeze({ name: entry.name, value: entry.value, [key]: outcome, description: entry.description }) as Reason<K, V>);
    values[short] = entry.value;
  });
  const byFullName = new Map(reasons.map((r) => [r.name, r]));
  return Object.freeze({
    prefix,
    key,
    values: Object.freeze(values) as { readonly [E in L[number] as ShortName<P, E['name']>]: E['value'] },
    reasons: Object.freeze(reasons),
    max: reasons.length + 1,
    byValue: (value: number) => (Number.isInteger(value) && value >= 1 ? reasons[value - 1] : undefined),
    byName: (name: string) => byFullName.get(name.startsWith(prefix) ? name : `${prefix}${name}`),
  });
}
