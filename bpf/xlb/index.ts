// @netaccel/bpf-programs/xlb: the TypeScript binding of the XDP balancer (xlb.bpf.c,
// xlb_decap.bpf.c): struct codecs and layouts of its maps, the constants and flags shared with
// the C headers, its drop reasons and its flow hashes. What lb-controller, the CLI and the
// benchmarks program the data plane with. Names are re-exported one by one.

// --- map structs: codecs and layouts (xlb_kern_user.h) ---------------------------------------
export type { Backend, Counter, CtValue, FlowKey, NatValue, Nexthop, Stats, StructLayout, VipKey, VipMeta, XlbConfig, XlbProtocol } from './codec.js';
export {
  XLB_LAYOUTS,
  decodeBackend,
  decodeConfig,
  decodeCounter,
  decodeCtValue,
  decodeDecapKey,
  decodeFlowKey,
  decodeFlowKey4,
  decodeNatValue,
  decodeNexthop,
  decodeStats,
  decodeU32,
  decodeVipKey,
  decodeVipMeta,
  encodeBackend,
  encodeConfig,
  encodeCtValue,
  encodeDecapKey,
  encodeFlowKey,
  encodeFlowKey4,
  conntrackKey,
  encodeNatValue,
  encodeNexthop,
  encodeU32,
  encodeVipKey,
  encodeVipMeta,
  maglevKey,
} from './codec.js';

// --- constants, flags, objects (xlb_consts.h) -------------------------------------------------
export type { XlbCtStateName, XlbMapName, XlbModeName } from './constants.js';
export {
  XLB_BACKEND_F,
  XLB_BALANCER,
  XLB_BUILD_DEFAULTS,
  XLB_CT_STATE,
  XLB_DECAP_STAT,
  XLB_DECAP_STAT_MAX,
  XLB_FEAT,
  XLB_GLOBAL_DEFAULTS,
  XLB_MODE,
  XLB_NEXTHOP_F,
  XLB_OBJECTS,
  XLB_VIP_F,
} from './constants.js';

// --- struct codecs for a CodecRegistry (the CLI's typed map views) ---------------------------
export { XLB_STRUCT_CODECS, registerXlbCodecs } from './struct-codecs.js';

// --- drop reasons -----------------------------------------------------------------------------
export type { XlbDropName, XlbDropReason, XlbDropVerdict } from './drop-reasons.js';
export { XLB_DROP, XLB_DROP_MAX, XLB_DROP_REASONS, dropReason, dropReasonByName } from './drop-reasons.js';

// --- flow hashes (xlb_helpers.h; jhash itself is @netaccel/protocol's) ------------------------
export { addressWords, encapSource, flowHash, gueSourcePort, maglevPosition, natCandidates, natPortCandidates, srcHash } from './flow-hash.js';
