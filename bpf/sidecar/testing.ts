// @netaccel/bpf-programs/sidecar/testing: what tests and benchmarks drive the sidecar fast path
// with: the object harness on @netaccel/bpf (load, attach to a cgroup and sock_hash, rules, pairs,
// policy, counters), a cgroup of the test's own, HTTP/2 frames and HPACK fields built by hand in
// every representation, and the frame relay that stands in for the proxy. Not for production code:
// that uses @netaccel/bpf-programs/sidecar.

// --- harness ----------------------------------------------------------------------------------
export { SIDECAR_BPF_DIR, SidecarObject, TestCgroup, sidecarObjectPath } from './sidecar-harness.js';
export type { RedirectProbeStat, RedirectProbeStats } from './redirect-probe.js';
export { REDIRECT_PROBE_OBJECT, REDIRECT_PROBE_STATS, RedirectProbe } from './redirect-probe.js';

// --- frames and HPACK fields --------------------------------------------------------------------
export type { FieldSpec, Frame, HeadersOptions, LiteralKind } from './h2-frames.js';
export {
  H2_FLAG,
  H2_FRAME,
  H2_PREFACE,
  HPACK_STATIC,
  dataFrame,
  decodeBlock,
  frame,
  grpcMessage,
  headerBlock,
  headersFrame,
  hpackIndexed,
  hpackInt,
  hpackLiteral,
  hpackSizeUpdate,
  hpackString,
  readFrames,
  settingsFrame,
} from './h2-frames.js';

// --- the relay standing in for the proxy --------------------------------------------------------
export type { RelayOptions, RelayedConnection } from './relay.js';
export { FrameRelay, permissionDenied } from './relay.js';
