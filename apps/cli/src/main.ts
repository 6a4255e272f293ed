#!/usr/bin/env node
import { runCli } from './cli.js';
import { groups } from './commands/index.js';

process.exitCode = await runCli(process.argv.slice(2), groups, { stdout: process.stdout, stderr: process.stderr, env: process.env });
