// @netaccel/bpf-programs/xlb/testing: what tests and benchmarks drive the XDP balancer with:
// the object harness on @netaccel/bpf (load, set globals, install entries, BPF_PROG_TEST_RUN,
// counters), the packet fixtures and the test world (VIPs, backends, next hops and their map
// entries). Not for production code: that uses @netaccel/bpf-programs/xlb.

// --- harness ----------------------------------------------------------------------------------
export type { RunResult } from './xlb-harness.js';
export { BPF_DIR, XlbObject, objectPath, pinThreadToCpu } from './xlb-harness.js';

// --- fixtures ---------------------------------------------------------------------------------
export type { XdpVerdictName, XlbFixture } from './fixtures.js';
export { XDP_VERDICT, expect, xlbFixtures } from './fixtures.js';

// --- test world -------------------------------------------------------------------------------
export type { MapEntrySpec, TestBackend, TestVip, XlbWorld } from './test-world.js';
export { CLIENT, MAC, NAT_SOURCE, TEST_TABLE_SIZE, clientFlow, vipEntries, worldBackend, worldEntries, worldVip, xlbWorld } from './test-world.js';
