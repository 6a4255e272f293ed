// @netaccel/bpf-programs/sidecar: the TypeScript binding of the sidecar fast path (sidecar.bpf.c):
// struct codecs and layouts of its maps, the flags and constants shared with the C headers, the
// reason table, the HPACK Huffman encoder and the policy compiler. What sidecar-offload writes
// the maps with (through ebpf-loader) and reads the counters with. Names re-exported one by one.

// --- map structs: codecs and layouts (sidecar_kern_user.h) ---------------------------------------
export type { ConnState, Counter, MethodStats, PolicyValue, SidecarConfig, SockKey, StreamState, StructLayout } from './codec.js';
export {
  SIDECAR_LAYOUTS,
  decodeConfig,
  decodeConn,
  decodeCounter,
  decodeMethodStats,
  decodePathKey,
  decodePolicyValue,
  decodeRule,
  decodeSockKey,
  decodeStream,
  encodeConfig,
  encodePathKey,
  encodePolicyValue,
  encodeRule,
  encodeSockKey,
  encodeStreamKey,
  encodeU32,
  nextConfig,
  reverseSockKey,
} from './codec.js';

// --- constants, flags, the object -----------------------------------------------------------------
export type { SidecarActionName, SidecarMapName } from './constants.js';
export {
  SIDECAR_ACTION,
  SIDECAR_BUILD_DEFAULTS,
  SIDECAR_CONN_F,
  SIDECAR_LATENCY_BUCKETS,
  SIDECAR_MAX_PATH,
  SIDECAR_OBJECT,
  SIDECAR_RULE_F,
  SIDECAR_STATUS_SLOTS,
  SIDECAR_STATUS_UNKNOWN,
} from './constants.js';

// --- reasons --------------------------------------------------------------------------------------
export type { SidecarPath, SidecarReason, SidecarReasonName } from './reasons.js';
export { SIDECAR_REASON, SIDECAR_REASONS, SIDECAR_REASON_MAX, sidecarReason, sidecarReasonByName } from './reasons.js';

// --- HPACK Huffman (RFC 7541 Appendix B) ------------------------------------------------------------
export type { HuffmanCode } from './huffman.js';
export { HUFFMAN_CODES, HUFFMAN_EOS, huffmanDecode, huffmanEncode, huffmanLength } from './huffman.js';

// --- policy compiler --------------------------------------------------------------------------------
export type { CompiledPolicy, PolicyMapEntry, SidecarPolicy } from './policy.js';
export { compilePolicy, policyProblems } from './policy.js';
