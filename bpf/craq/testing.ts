// @netaccel/bpf-programs/craq/testing: what tests and benchmarks drive the NetCRAQ node with:
// the object harness on @netaccel/bpf (load, config, keys, BPF_PROG_TEST_RUN, counters,
// commits) and the test world and fixtures. Not for production code.

// --- harness ----------------------------------------------------------------------------------
export type { CraqRun } from './craq-harness.js';
export { CRAQ_OBJECT_PATH, CRAQ_PROGRAM, CraqNodeObject } from './craq-harness.js';

// --- world and fixtures -----------------------------------------------------------------------
export type { CraqExpect, CraqFixture, Role } from './fixtures.js';
export { CLIENT, EPOCH, KEY, KEY_EMPTY, KEY_TOMB, KEY_UNKNOWN, NODES, PORT, VALUE, VALUE2, chainConfig, craqFixtures, frame, worldKeys } from './fixtures.js';

// --- linearizability of one register's history (for end-to-end checks) ------------------------
export type { RegisterOp } from './linearizability.js';
export { isLinearizable } from './linearizability.js';
