/**
 * `--help` texts: the CLI's groups, a group's commands, and a command's arguments and options
 * (each option with what it means, its value's format and its default).
 */
import { readFileSync } from 'node:fs';
import type { Command, CommandGroup, OptionDef, OptionSpec } from './command.js';
import { valueName } from './args.js';

export const DEFAULT_TIMEOUT_MS = 5000; // 5 s per RPC

/** The options every command takes; `--socket`'s help names the group's daemon when it has one. */
export function globalOptions(daemon?: string): OptionSpec {
  const env = daemon === undefined ? 'NETACCEL_<DAEMON>_SOCKET' : `NETACCEL_${daemon.toUpperCase().replaceAll('-', '_')}_SOCKET`;
  return {
    json: { type: 'boolean', default: false, help: 'print JSON for scripts; errors as {"error":{"code","message"}} on stderr' },
    socket: {
      type: 'string',
      value: 'path',
      help: `${daemon ?? 'the daemon'}'s Unix socket (default: ${env}, else /run/netaccel/${daemon ?? '<daemon>'}.sock)`,
    },
    timeout: { type: 'string', value: 'ms', help: `deadline of each call to the daemon, in milliseconds (default: ${DEFAULT_TIMEOUT_MS})` },
    help: { type: 'boolean', short: 'h', default: false, help: 'this help' },
  };
}

/** The CLI's version: apps/cli/package.json, beside both src/ and dist/. */
export function cliVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function defaultText(o: OptionDef): string {
  if (o.help?.includes('default') === true) return '';
  if (o.default === undefined || o.default === false || o.default === '' || (Array.isArray(o.default) && o.default.length === 0)) return '';
  return ` (default: ${Array.isArray(o.default) ? o.default.join(',') : String(o.default)})`;
}

function optionHead(name: string, o: OptionDef): string {
  return `${o.short !== undefined ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${valueName(o)}` : ''}`;
}

function optionRows(options: OptionSpec, width: number): string[] {
  const heads = Object.entries(options).map(([name, o]) => optionHead(name, o));
  return Object.values(options).map((o, i) => {
    const text = `${o.help ?? (o.type === 'boolean' ? 'a switch' : 'a value')}${defaultText(o)}${o.multiple === true ? ' (repeatable)' : ''}`;
    return `  ${heads[i]!.padEnd(width)}${text}`;
  });
}

/** Usage of one command: its line, summary, then its options and the global ones. */
export function commandUsage(group: CommandGroup, name: string, c: Command): string {
  const own = c.options ?? {};
  const global = globalOptions(group.daemon);
  const width = Math.max(...Object.entries({ ...global, ...own }).map(([n, o]) => optionHead(n, o).length + 2));
  return [
    `usage: netaccel ${group.name} ${name}${c.args ? ` ${c.args}` : ''} [options]`,
    c.summary,
    ...(Object.keys(own).length > 0 ? ['', 'options:', ...optionRows(own, width)] : []),
    '',
    'global options:',
    ...optionRows(global, width),
  ].join('\n');
}

/** Usage of a group: its commands. */
export function groupUsage(group: CommandGroup): string {
  const rows = Object.entries(group.commands).map(([n, c]) => `  ${n.padEnd(14)} ${c.summary}`);
  const cmd = group.default !== undefined ? `[<command>] [options]  (no command: ${group.default})` : '<command> [options]';
  return `usage: netaccel ${group.name} ${cmd}\n${group.summary}\n\ncommands:\n${rows.join('\n')}\n\n'netaccel ${group.name} <command> --help' shows a command's arguments and options`;
}

/** Usage of the CLI: its groups. */
export function cliUsage(groups: readonly CommandGroup[]): string {
  return [
    'usage: netaccel <group> <command> [options]',
    '',
    'groups:',
    ...groups.map((g) => `  ${g.name.padEnd(14)} ${g.summary}`),
    '',
    'global options: --json (output for scripts)  --socket <path> (daemon socket)  --timeout <ms>  -h/--help  --version',
  ].join('\n');
}
