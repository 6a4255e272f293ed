/**
 * `netaccel <group> <command> [options]`: dispatch, global options, help and error reporting.
 * Each daemon's commands live in `commands/<group>.ts` and are listed in `commands/index.ts`.
 * A usage error (unknown group, command or option, a missing value, a missing or extra argument)
 * is NA_ERR_CLI_USAGE, names the nearest known name, and exits 2.
 */
import type { Writable } from 'node:stream';
import { errorMessage, isNetaccelError } from '@netaccel/errors';
import { checkArity, didYouMean, nearest, parseCommandArgs } from './args.js';
import type { ParsedArgs } from './args.js';
import type { CommandGroup } from './command.js';
import { NA_ERR_CLI_USAGE } from './errors.js';
import { DEFAULT_TIMEOUT_MS, cliUsage, cliVersion, commandUsage, globalOptions, groupUsage } from './help.js';
import { Output } from './output.js';

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
}

/** The options before `--`: where `--help` and `--json` are looked for. */
function optionTokens(argv: readonly string[]): readonly string[] {
  const end = argv.indexOf('--');
  return end < 0 ? argv : argv.slice(0, end);
}

/** Writes an error: JSON with --json, else `netaccel <where>: <message> [CODE]` and, for usage errors of the command line, where help is. */
function report(io: CliIo, json: boolean, where: string, err: unknown, helpHint?: string): number {
  const code = isNetaccelError(err) ? err.code : undefined;
  if (json) io.stderr.write(`${JSON.stringify({ error: { code, message: errorMessage(err) } })}\n`);
  else io.stderr.write(`${where}: ${errorMessage(err)}${code ? ` [${code}]` : ''}\n${helpHint !== undefined ? `see: ${helpHint}\n` : ''}`);
  return code === 'NA_ERR_CLI_USAGE' ? 2 : 1;
}

/** Runs the CLI; returns the exit code (0 ok, 1 failed, 2 usage). */
export async function runCli(argv: readonly string[], groups: readonly CommandGroup[], io: CliIo): Promise<number> {
  const tokens = optionTokens(argv);
  const json = tokens.includes('--json');
  const wantsHelp = tokens.includes('-h') || tokens.includes('--help');
  const [groupName, ...tail] = argv;
  if (groupName === '--version') {
    io.stdout.write(json ? `${JSON.stringify({ version: cliVersion() })}\n` : `netaccel ${cliVersion()}\n`);
    return 0;
  }
  if (!groupName || groupName === '-h' || groupName === '--help' || groupName === 'help') {
    io.stdout.write(`${cliUsage(groups)}\n`);
    return groupName ? 0 : 2;
  }
  const group = groups.find((g) => g.name === groupName);
  if (!group) {
    const suggestion = groupName.startsWith('-') ? undefined : nearest(groupName, groups.map((g) => g.name));
    const what = groupName.startsWith('-') ? `expected a group before options, got ${groupName}` : `unknown group ${JSON.stringify(groupName)}${didYouMean(suggestion)}`;
    return report(io, json, 'netaccel', NA_ERR_CLI_USAGE(what), 'netaccel --help');
  }
  // A group with a default command runs it when no command is named: `netaccel lab --keep`.
  const useDefault = group.default !== undefined && (tail.length === 0 || tail[0]!.startsWith('-')) && !wantsHelp;
  const [cmdName, ...rest] = useDefault ? [group.default!, ...tail] : tail;
  if (!cmdName || cmdName === '-h' || cmdName === '--help') {
    io.stdout.write(`${groupUsage(group)}\n`);
    return cmdName ? 0 : 2;
  }
  const cmd = Object.hasOwn(group.commands, cmdName) ? group.commands[cmdName] : undefined;
  if (!cmd) {
    const what = cmdName.startsWith('-') ? `expected a command before options, got ${cmdName}` : `unknown command ${JSON.stringify(cmdName)}${didYouMean(nearest(cmdName, Object.keys(group.commands)))}`;
    return report(io, json, `netaccel ${group.name}`, NA_ERR_CLI_USAGE(what), `netaccel ${group.name} --help`);
  }
  const where = `netaccel ${group.name} ${cmdName}`;
  if (wantsHelp) {
    io.stdout.write(`${commandUsage(group, cmdName, cmd)}\n`);
    return 0;
  }
  let parsed: ParsedArgs;
  try {
    parsed = parseCommandArgs(rest, { ...globalOptions(group.daemon), ...(cmd.options ?? {}) });
    checkArity(parsed.positionals, cmd.args, `${group.name} ${cmdName}`);
  } catch (err) {
    return report(io, json, where, err, `${where} --help`);
  }
  const values = parsed.values;
  try {
    let timeoutMs = DEFAULT_TIMEOUT_MS;
    if (typeof values.timeout === 'string') {
      timeoutMs = Number(values.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw NA_ERR_CLI_USAGE(`--timeout: expected milliseconds > 0, got ${values.timeout}`);
    }
    await cmd.run({ values, positionals: parsed.positionals, out: new Output(values.json === true, io.stdout), progress: (text) => void io.stderr.write(text), env: io.env, timeoutMs });
    return 0;
  } catch (err) {
    return report(io, values.json === true, where, err);
  }
}
