// @netaccel/linearizability: a linearizability checker for per-key register histories.

export type { RegisterOp, RegisterValue } from './model.js';
export { describeOp, step } from './model.js';
export type { CheckOptions, CheckResult, Counterexample, KeyReport } from './check.js';
export { checkHistory } from './check.js';
export { bruteForceLinearizable } from './brute.js';
export type { Invocation } from './recorder.js';
export { HistoryRecorder } from './recorder.js';
export { NA_ERR_LIN_INVALID_HISTORY, NA_ERR_LIN_INVALID_OPTIONS, linearizabilityErrors } from './errors.js';
