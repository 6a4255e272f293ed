/**
 * `netaccel <group> <command> [options]`: dispatch, global options, help and error reporting.
 * Each daemon's commands live in `commands/<group>.ts` and are listed in `commands/index.ts`.
 */
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import { errorMessage, isNetaccelError } from '@netaccel/errors';
import type { Command, CommandGroup, OptionSpec } from './command.js';
import { NA_ERR_CLI_USAGE } from './errors.js';
import { Output } from './output.js';

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
}

const GLOBAL_OPTIONS: OptionSpec = {
  json: { type: 'boolean', default: false },
  socket: { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
};
const DEFAULT_TIMEOUT_MS = 5000; // 5 s per RPC

function optionsUsage(options: OptionSpec | undefined): string {
  const all = { ...GLOBAL_OPTIONS, ...(options ?? {}) };
  return Object.entries(all)
    .map(([name, o]) => `--${name}${o.type === 'string' ? ' <value>' : ''}`)
    .join(' ');
}

export function usage(groups: readonly CommandGroup[], group?: CommandGroup, cmd?: [string, Command]): string {
  if (group && cmd) {
    const [name, c] = cmd;
    return `usage: netaccel ${group.name} ${name}${c.args ? ` ${c.args}` : ''} [${optionsUsage(c.options)}]\n  ${c.summary}`;
  }
  if (group) {
    const rows = Object.entries(group.commands).map(([n, c]) => `  ${n.padEnd(14)} ${c.summary}`);
    const cmd = group.default !== undefined ? `[<command>] [options]  (no command: ${group.default})` : '<command> [options]';
    return `usage: netaccel ${group.name} ${cmd}\n${group.summary}\n\ncommands:\n${rows.join('\n')}`;
  }
  const rows = groups.map((g) => `  ${g.name.padEnd(14)} ${g.summary}`);
  return [
    'usage: netaccel <group> <command> [options]',
    '',
    'groups:',
    ...rows,
    '',
    'global options: --json (output for scripts)  --socket <path> (daemon socket)  --timeout <ms>  -h/--help',
  ].join('\n');
}

/** Runs the CLI; returns the exit code (0 ok, 1 failed, 2 usage). */
export async function runCli(argv: readonly string[], groups: readonly CommandGroup[], io: CliIo): Promise<number> {
  const [groupName, ...tail] = argv;
  const group0 = groups.find((g) => g.name === groupName);
  // A group with a default command runs it when no command is named: `netaccel lab --keep`.
  const useDefault = group0?.default !== undefined && (tail.length === 0 || tail[0]!.startsWith('-')) && !tail.some((a) => a === '-h' || a === '--help');
  const [cmdName, ...rest] = useDefault ? [group0.default!, ...tail] : tail;
  if (!groupName || groupName === '-h' || groupName === '--help' || groupName === 'help') {
    io.stdout.write(`${usage(groups)}\n`);
    return groupName ? 0 : 2;
  }
  const group = groups.find((g) => g.name === groupName);
  if (!group) {
    io.stderr.write(`netaccel: unknown group ${JSON.stringify(groupName)}\n${usage(groups)}\n`);
    return 2;
  }
  if (!cmdName || cmdName === '-h' || cmdName === '--help') {
    io.stdout.write(`${usage(groups, group)}\n`);
    return cmdName ? 0 : 2;
  }
  const cmd = Object.hasOwn(group.commands, cmdName) ? group.commands[cmdName] : undefined;
  if (!cmd) {
    io.stderr.write(`netaccel ${group.name}: unknown command ${JSON.stringify(cmdName)}\n${usage(groups, group)}\n`);
    return 2;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...rest], options: { ...GLOBAL_OPTIONS, ...(cmd.options ?? {}) }, allowPositionals: true, strict: true });
  } catch (err) {
    io.stderr.write(`netaccel ${group.name} ${cmdName}: ${errorMessage(err)}\n${usage(groups, group, [cmdName, cmd])}\n`);
    return 2;
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) {
    io.stdout.write(`${usage(groups, group, [cmdName, cmd])}\n`);
    return 0;
  }
  const json = values.json === true;
  try {
    let timeoutMs = DEFAULT_TIMEOUT_MS;
    if (typeof values.timeout === 'string') {
      timeoutMs = Number(values.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw NA_ERR_CLI_USAGE(`--timeout: expected milliseconds > 0, got ${values.timeout}`);
    }
    await cmd.run({ values: parsed.values, positionals: parsed.positionals, out: new Output(json, io.stdout), progress: (text) => void io.stderr.write(text), env: io.env, timeoutMs });
    return 0;
  } catch (err) {
    const code = isNetaccelError(err) ? err.code : undefined;
    if (json) io.stderr.write(`${JSON.stringify({ error: { code, message: errorMessage(err) } })}\n`);
    else io.stderr.write(`netaccel ${group.name} ${cmdName}: ${errorMessage(err)}${code ? ` [${code}]` : ''}\n`);
    return code === 'NA_ERR_CLI_USAGE' ? 2 : 1;
  }
}
