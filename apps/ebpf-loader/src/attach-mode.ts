/**
 * The attach modes of the Loader API in one table: the proto enum, the loader's name for it (in
 * the state file and the CLI), the kind of hook (XDP, TC, sockmap, cgroup), which target the
 * request must give, the program type that fits, and what libs/bpf is asked to do.
 */
import type { AttachTypeName, CgroupAttachType, SockmapAttachType, TcDirection, XdpMode } from '@netaccel/bpf';
import { loaderV1 } from '@netaccel/rpc';
import { NA_ERR_LOADER_INVALID_REQUEST } from './errors.js';
import { ATTACH_MODES } from './state.js';
import type { AttachModeName } from './state.js';

const { AttachMode, ProgramType } = loaderV1;
type AttachMode = loaderV1.AttachMode;
type ProgramType = loaderV1.ProgramType;

export type AttachKind = 'xdp' | 'tc' | 'sockmap' | 'cgroup';
export type TargetField = 'iface' | 'sockmapId' | 'cgroupPath';

export interface ModeSpec {
  readonly name: AttachModeName;
  readonly proto: AttachMode;
  readonly kind: AttachKind;
  readonly target: TargetField;
  /** libbpf's name of the program type that fits. */
  readonly programType: string;
  readonly xdpMode?: XdpMode;
  readonly tcDirection?: TcDirection;
  /** Kernel attach type of sockmap and cgroup modes. */
  readonly attachType?: AttachTypeName;
}

function spec(s: ModeSpec): ModeSpec {
  return Object.freeze(s);
}

export const MODES: Readonly<Record<AttachModeName, ModeSpec>> = Object.freeze({
  'xdp-native': spec({ name: 'xdp-native', proto: AttachMode.ATTACH_MODE_XDP_NATIVE, kind: 'xdp', target: 'iface', programType: 'xdp', xdpMode: 'native' }),
  'xdp-generic': spec({ name: 'xdp-generic', proto: AttachMode.ATTACH_MODE_XDP_GENERIC, kind: 'xdp', target: 'iface', programType: 'xdp', xdpMode: 'generic' }),
  'tc-ingress': spec({ name: 'tc-ingress', proto: AttachMode.ATTACH_MODE_TC_INGRESS, kind: 'tc', target: 'iface', programType: 'sched_cls', tcDirection: 'ingress' }),
  'tc-egress': spec({ name: 'tc-egress', proto: AttachMode.ATTACH_MODE_TC_EGRESS, kind: 'tc', target: 'iface', programType: 'sched_cls', tcDirection: 'egress' }),
  'sk-skb-stream-parser': spec({ name: 'sk-skb-stream-parser', proto: AttachMode.ATTACH_MODE_SK_SKB_STREAM_PARSER, kind: 'sockmap', target: 'sockmapId', programType: 'sk_skb', attachType: 'sk_skb_stream_parser' }),
  'sk-skb-stream-verdict': spec({ name: 'sk-skb-stream-verdict', proto: AttachMode.ATTACH_MODE_SK_SKB_STREAM_VERDICT, kind: 'sockmap', target: 'sockmapId', programType: 'sk_skb', attachType: 'sk_skb_stream_verdict' }),
  // the verdict without a stream parser (skb by skb): a sockmap has this or the stream verdict, not both
  'sk-skb-verdict': spec({ name: 'sk-skb-verdict', proto: AttachMode.ATTACH_MODE_SK_SKB_VERDICT, kind: 'sockmap', target: 'sockmapId', programType: 'sk_skb', attachType: 'sk_skb_verdict' }),
  'sk-msg-verdict': spec({ name: 'sk-msg-verdict', proto: AttachMode.ATTACH_MODE_SK_MSG_VERDICT, kind: 'sockmap', target: 'sockmapId', programType: 'sk_msg', attachType: 'sk_msg_verdict' }),
  sockops: spec({ name: 'sockops', proto: AttachMode.ATTACH_MODE_SOCKOPS, kind: 'cgroup', target: 'cgroupPath', programType: 'sock_ops', attachType: 'cgroup_sock_ops' }),
  'cgroup-ingress': spec({ name: 'cgroup-ingress', proto: AttachMode.ATTACH_MODE_CGROUP_INGRESS, kind: 'cgroup', target: 'cgroupPath', programType: 'cgroup_skb', attachType: 'cgroup_inet_ingress' }),
  'cgroup-egress': spec({ name: 'cgroup-egress', proto: AttachMode.ATTACH_MODE_CGROUP_EGRESS, kind: 'cgroup', target: 'cgroupPath', programType: 'cgroup_skb', attachType: 'cgroup_inet_egress' }),
  'cgroup-connect4': spec({ name: 'cgroup-connect4', proto: AttachMode.ATTACH_MODE_CGROUP_CONNECT4, kind: 'cgroup', target: 'cgroupPath', programType: 'cgroup_sock_addr', attachType: 'cgroup_inet4_connect' }),
  'cgroup-connect6': spec({ name: 'cgroup-connect6', proto: AttachMode.ATTACH_MODE_CGROUP_CONNECT6, kind: 'cgroup', target: 'cgroupPath', programType: 'cgroup_sock_addr', attachType: 'cgroup_inet6_connect' }),
});

/** The mode of a request; NA_ERR_LOADER_INVALID_REQUEST for UNSPECIFIED or an unknown number. */
export function modeOfProto(mode: AttachMode, path = 'point.mode'): ModeSpec {
  const found = ATTACH_MODES.map((n) => MODES[n]).find((m) => m.proto === mode);
  if (!found) {
    const names = ATTACH_MODES.map((n) => loaderV1.attachModeToJSON(MODES[n].proto)).join(', ');
    throw NA_ERR_LOADER_INVALID_REQUEST(`${path}: expected one of ${names}, got ${loaderV1.attachModeToJSON(mode)}`);
  }
  return found;
}

/** The mode by the loader's name (`xdp-native`), for the CLI and tests. */
export function modeByName(name: string): ModeSpec | undefined {
  return (MODES as Record<string, ModeSpec | undefined>)[name];
}

export function sockmapAttachType(m: ModeSpec): SockmapAttachType {
  return m.attachType as SockmapAttachType;
}

export function cgroupAttachType(m: ModeSpec): CgroupAttachType {
  return m.attachType as CgroupAttachType;
}

const PROGRAM_TYPES: Readonly<Record<string, ProgramType>> = Object.freeze({
  xdp: ProgramType.PROGRAM_TYPE_XDP,
  sched_cls: ProgramType.PROGRAM_TYPE_SCHED_CLS,
  sk_skb: ProgramType.PROGRAM_TYPE_SK_SKB,
  sk_msg: ProgramType.PROGRAM_TYPE_SK_MSG,
  sock_ops: ProgramType.PROGRAM_TYPE_SOCK_OPS,
  cgroup_skb: ProgramType.PROGRAM_TYPE_CGROUP_SKB,
  cgroup_sock_addr: ProgramType.PROGRAM_TYPE_CGROUP_SOCK_ADDR,
  socket_filter: ProgramType.PROGRAM_TYPE_SOCKET_FILTER,
});

/** The proto's program type for libbpf's name of it (OTHER for the rest). */
export function protoProgramType(typeName: string): ProgramType {
  return PROGRAM_TYPES[typeName] ?? ProgramType.PROGRAM_TYPE_OTHER;
}
