/**
 * The one-line JSON reports of the benches' native tools (paxos-gen, grpc-load): parsed and
 * checked field by field, so that a tool that crashed or printed something else fails the bench
 * with its name and the field, not with NaN figures.
 */

/** Parses `line` as `tool`'s report; every field of `numbers` must be a finite number. */
export function parseReportLine(tool: string, line: string, numbers: readonly string[]): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error(`${tool}: expected a JSON report, got ${JSON.stringify(line.slice(0, 200))}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${tool}: expected a JSON object, got ${JSON.stringify(line.slice(0, 200))}`);
  const o = v as Record<string, unknown>;
  for (const f of numbers) if (typeof o[f] !== 'number' || !Number.isFinite(o[f])) throw new Error(`${tool}: report field ${f}: expected a number, got ${JSON.stringify(o[f])}`);
  return o;
}
