/**
 * systemd's own checks of unit files, through `systemd-analyze` (systemd 252): verify, the
 * capability table, the system-call groups, and the offline security review. No running
 * systemd is needed; nothing here needs root.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readUnit, words } from './unit-file.js';

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function analyze(args: readonly string[]): Run {
  const r = spawnSync('systemd-analyze', args, {
    encoding: 'utf8',
    env: { ...process.env, SYSTEMD_LOG_COLOR: '0', SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '', LC_ALL: 'C.UTF-8' },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * What `systemd-analyze verify` says about the files, one line per problem. systemd 252 exits 0
 * after "Unknown key", "Failed to parse …, ignoring" and the like, so every printed line is a
 * problem, and so is a non-zero exit.
 */
export function verify(files: readonly string[]): string[] {
  const r = analyze(['verify', '--man=no', ...files]);
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (r.status !== 0) lines.push(`systemd-analyze verify exited with ${r.status}`);
  return lines;
}

/** Capability names systemd knows (`systemd-analyze capability`), upper case: CAP_BPF … */
export function knownCapabilities(): Set<string> {
  const r = analyze(['capability']);
  if (r.status !== 0) throw new Error(`systemd-analyze capability: ${r.stderr}`);
  const names = r.stdout.split('\n').slice(1).map((l) => l.trim().split(/\s+/)[0] ?? '').filter((n) => n.startsWith('cap_'));
  return new Set(names.map((n) => n.toUpperCase()));
}

/**
 * verify, plus what verify lets pass silently: a capability systemd does not know is dropped
 * without a word (CapabilityBoundingSet=CAP_BPFF gives an empty set).
 */
export function checkUnits(files: readonly string[]): string[] {
  const problems = verify(files);
  const known = knownCapabilities();
  for (const f of files) {
    const unit = readUnit(f);
    for (const key of ['CapabilityBoundingSet', 'AmbientCapabilities']) {
      for (const cap of words(unit, 'Service', key)) {
        const name = cap.replace(/^~/, '');
        if (!known.has(name)) problems.push(`${f}: ${key}: ${name} is not a capability systemd knows`);
      }
    }
  }
  return problems;
}

/** The system calls of a `@group` (nested groups expanded) or the call itself. */
export function syscalls(name: string): Set<string> {
  if (!name.startsWith('@')) return new Set([name]);
  const r = analyze(['syscall-filter', name]);
  if (r.status !== 0) throw new Error(`systemd-analyze syscall-filter ${name}: ${r.stderr.trim()}`);
  const out = new Set<string>();
  for (const line of r.stdout.split('\n').slice(1)) {
    const item = line.trim();
    if (item === '' || item.startsWith('#')) continue;
    for (const s of syscalls(item)) out.add(s);
  }
  return out;
}

/**
 * The system calls a unit's SystemCallFilter= lines allow: the first line is an allow list
 * (these units never start with a deny list), later `~` lines remove, later plain lines add.
 */
export function allowedSyscalls(filterLines: readonly string[]): Set<string> {
  const allowed = new Set<string>();
  filterLines.forEach((line, i) => {
    const deny = line.startsWith('~');
    if (i === 0 && deny) throw new Error('allowedSyscalls: expected an allow list first');
    for (const item of line.replace(/^~/, '').split(/\s+/).filter((w) => w !== '')) {
      for (const s of syscalls(item)) {
        if (deny) allowed.delete(s);
        else allowed.add(s);
      }
    }
  });
  return allowed;
}

export interface SecurityCheck {
  readonly name: string;
  /** true: the setting protects; false: it does not; null: does not apply. */
  readonly set: boolean | null;
  readonly description: string;
}

export interface SecurityReview {
  /** The overall exposure, 0.0 (safe) .. 10.0 (unsafe), as systemd prints it. */
  readonly exposure: number;
  readonly checks: readonly SecurityCheck[];
}

/** `systemd-analyze security --offline=yes` of one unit file. */
export function security(file: string): SecurityReview {
  const text = analyze(['security', '--offline=yes', file]);
  const m = /Overall exposure level for \S+: (\d+\.\d)/.exec(text.stdout);
  if (!m) throw new Error(`systemd-analyze security ${file}: no overall exposure in\n${text.stdout}${text.stderr}`);
  const json = analyze(['security', '--offline=yes', '--json=short', file]);
  const checks = (JSON.parse(json.stdout) as { name: string; set: boolean | null; description: string }[]).map(({ name, set, description }) => ({ name, set, description }));
  return { exposure: Number(m[1]), checks };
}

/** True when `systemd-analyze security --threshold=N` accepts the unit (N on its 0..100 scale). */
export function withinThreshold(file: string, exposure: number): boolean {
  return analyze(['security', '--offline=yes', `--threshold=${Math.round(exposure * 10)}`, file]).status === 0;
}

/**
 * Writes unit texts into `dir` (same file names, so they find each other), with `rewrite.from`
 * in every ExecStart= replaced by `rewrite.to` (verify insists that the program exists), and
 * creates each of `execTargets` as an executable that exits 0 (verify only checks that the
 * ExecStart= program exists; the real daemons run in systemd.ns.test.ts). Answers the written paths.
 */
export function stageUnits(
  dir: string,
  units: readonly { name: string; text: string }[],
  rewrite?: { readonly from: string; readonly to: string },
  execTargets: readonly string[] = [],
): string[] {
  mkdirSync(dir, { recursive: true });
  for (const s of execTargets) {
    mkdirSync(dirname(s), { recursive: true });
    writeFileSync(s, '#!/bin/sh\nexit 0\n');
    chmodSync(s, 0o755);
  }
  return units.map((u) => {
    const path = join(dir, u.name);
    const lines = u.text.split('\n').map((l) => (rewrite !== undefined && l.startsWith('ExecStart=') ? l.replaceAll(rewrite.from, rewrite.to) : l));
    writeFileSync(path, lines.join('\n'));
    return path;
  });
}
