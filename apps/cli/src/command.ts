/** The shape of a CLI command and of a group of commands (`netaccel <group> <command>`). */
import type { Output } from './output.js';

/** One option of a command: its type, and for `--help` what it means and its value's name. */
export interface OptionDef {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: string | boolean | string[] | boolean[];
  /** What the option means, its format and default, for `--help` (`the daemon's socket`). */
  help?: string;
  /** The name of its value in usage lines (`path` → `--socket <path>`); `value` when omitted. */
  value?: string;
}

export type OptionSpec = Readonly<Record<string, OptionDef>>;

export interface CommandContext {
  /** Parsed options of the command (global ones included). */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  /** Positional arguments after the command name. */
  positionals: string[];
  out: Output;
  env: NodeJS.ProcessEnv;
  /** Progress for people while a long command runs (stderr; results go to `out`). */
  progress: (text: string) => void;
  /** Per-call deadline for daemon RPCs (--timeout, default 5 s). */
  timeoutMs: number;
}

export interface Command {
  summary: string;
  /** Positional arguments for the usage line, e.g. `<prefix> <next-hop>`. */
  args?: string;
  options?: OptionSpec;
  run(ctx: CommandContext): Promise<void>;
}

export interface CommandGroup {
  name: string;
  summary: string;
  commands: Readonly<Record<string, Command>>;
  /** The daemon the group talks to (`lb-controller`), for `--socket`'s default in `--help`. */
  daemon?: string;
  /** The command run when none is named (`netaccel lab` = `netaccel lab run`). */
  default?: string;
}
