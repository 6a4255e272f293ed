/**
 * systemd unit files read the way the packaging tests need them: per section, every value each
 * directive was assigned, in file order. Comments (`#`, `;`) and blank lines are skipped; a line
 * ending in `\` continues on the next one. No specifier or quote handling: the tests compare
 * what the file says, and systemd's own reading is checked with systemd-analyze.
 */
import { readFileSync } from 'node:fs';

export interface UnitFile {
  readonly path: string;
  readonly text: string;
  /** section name → directive → every value assigned, in order ("" for an empty assignment). */
  readonly sections: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;
}

/** Parses unit-file text; throws on a line that is neither a section, a directive nor a comment. */
export function parseUnit(text: string, path = '<unit>'): UnitFile {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    const start = i + 1;
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i]!.trim()}`;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[([^\]]+)\]$/.exec(line);
    if (section) {
      current = sections.get(section[1]!) ?? new Map<string, string[]>();
      sections.set(section[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0 || current === undefined) throw new Error(`${path}:${start}: expected [Section] or Key=Value, got ${JSON.stringify(line)}`);
    const key = line.slice(0, eq).trim();
    const list = current.get(key) ?? [];
    list.push(line.slice(eq + 1).trim());
    current.set(key, list);
  }
  return { path, text, sections };
}

export function readUnit(path: string): UnitFile {
  return parseUnit(readFileSync(path, 'utf8'), path);
}

/** Every value of `key` in `section`, in order (empty when never assigned). */
export function values(unit: UnitFile, section: string, key: string): readonly string[] {
  return unit.sections.get(section)?.get(key) ?? [];
}

/** The last value of `key` (what systemd uses for a single-valued directive). */
export function value(unit: UnitFile, section: string, key: string): string | undefined {
  const all = values(unit, section, key);
  return all[all.length - 1];
}

/**
 * The words of a list directive (After=, CapabilityBoundingSet=, ReadWritePaths= …): the
 * assignments' words joined, an empty assignment resetting the list, as systemd reads them.
 */
export function words(unit: UnitFile, section: string, key: string): string[] {
  let out: string[] = [];
  for (const v of values(unit, section, key)) {
    if (v === '') out = [];
    else out.push(...v.split(/\s+/));
  }
  return out;
}
