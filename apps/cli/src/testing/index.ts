// @netaccel/app-cli/testing: what end-to-end tests drive the `netaccel` command with in one
// process (its command groups, run with captured output and exit code) and the lab report's
// shape and HTML rendering. Not an API for other apps: they talk over gRPC.
export type { CapturedRun } from '../capture.js';
export { runCliCaptured } from '../capture.js';
export { groups } from '../commands/index.js';
export type { LabReport } from '../lab/report.js';
export { reportHtml } from '../lab/report.js';
