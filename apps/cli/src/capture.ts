/** Runs the CLI in this process and returns what it printed: for tests and for callers that embed it. */
import { PassThrough } from 'node:stream';
import { runCli } from './cli.js';
import type { CommandGroup } from './command.js';

export interface CapturedRun {
  code: number;
  out: string;
  err: string;
}

export async function runCliCaptured(argv: readonly string[], groups: readonly CommandGroup[], env: NodeJS.ProcessEnv = {}): Promise<CapturedRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runCli(argv, groups, { stdout, stderr, env });
  return { code, out, err };
}
