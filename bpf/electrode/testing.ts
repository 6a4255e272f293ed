// @netaccel/bpf-programs/electrode/testing: what tests and benchmarks drive the Electrode
// offloads with: the test group and frames (Paxos payloads in Ethernet/IP/UDP), and the
// fixtures of the XDP offloads. Not for production code: that uses @netaccel/bpf-programs/electrode.

// --- frames -----------------------------------------------------------------------------------
export type { TestReplica } from './frames.js';
export { TEST_PORT, TEST_SPORT, checkpointChunk, commit, getCheckpoint, paxosFrame, prepare, prepareOk, rawMessage, testGroup, udpPayload } from './frames.js';

// --- fixtures ---------------------------------------------------------------------------------
export type { ElectrodeFixture, XdpVerdictName } from './fixtures.js';
export { FOLLOWER, LEADER, XDP_VERDICT, fastAckFixtures, quorumFixtures } from './fixtures.js';
