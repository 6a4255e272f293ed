/**
 * The kernel's attach types (enum bpf_attach_type) and link types (enum bpf_link_type) that
 * netaccel uses, with the program type each attach type needs. The numbers are uapi: they never
 * change. Checking the program type before the syscall turns the kernel's bare EINVAL into a
 * message that says which program does not fit which hook.
 */
import { NA_ERR_BPF_INVALID } from './errors.js';
import { native } from './native.js';
import { BPF_PROG_TYPE } from './program.js';

/** enum bpf_attach_type, by libbpf's name without the BPF_ prefix, lower-case. */
export const ATTACH_TYPE = Object.freeze({
  cgroup_inet_ingress: 0,
  cgroup_inet_egress: 1,
  cgroup_inet_sock_create: 2,
  cgroup_sock_ops: 3,
  sk_skb_stream_parser: 4,
  sk_skb_stream_verdict: 5,
  sk_msg_verdict: 7,
  cgroup_inet4_connect: 10,
  cgroup_inet6_connect: 11,
  xdp: 37,
  sk_skb_verdict: 38,
} as const);
export type AttachTypeName = keyof typeof ATTACH_TYPE;

/** BPF_F_ALLOW_OVERRIDE, BPF_F_ALLOW_MULTI, BPF_F_REPLACE (bpf_prog_attach, bpf_link_update). */
export const ATTACH_FLAGS = Object.freeze({ ALLOW_OVERRIDE: 1, ALLOW_MULTI: 2, REPLACE: 4 } as const);

/** enum bpf_link_type, index = number. */
export const LINK_TYPES = Object.freeze([
  'unspec', 'raw_tracepoint', 'tracing', 'cgroup', 'iter', 'netns', 'xdp', 'perf_event', 'kprobe_multi',
  'struct_ops', 'netfilter', 'tcx', 'uprobe_multi', 'netkit', 'sockmap',
] as const);

/** The attach types of a sockmap / sockhash (bpf_prog_attach with the map's fd). */
export const SOCKMAP_ATTACH_TYPES = Object.freeze(['sk_skb_stream_parser', 'sk_skb_stream_verdict', 'sk_skb_verdict', 'sk_msg_verdict'] as const);
export type SockmapAttachType = (typeof SOCKMAP_ATTACH_TYPES)[number];

/** The attach types of a cgroup (bpf_prog_attach or bpf_link_create with the cgroup's fd). */
export const CGROUP_ATTACH_TYPES = Object.freeze([
  'cgroup_inet_ingress', 'cgroup_inet_egress', 'cgroup_inet_sock_create', 'cgroup_sock_ops', 'cgroup_inet4_connect', 'cgroup_inet6_connect',
] as const);
export type CgroupAttachType = (typeof CGROUP_ATTACH_TYPES)[number];

const PROG_TYPE_OF: Readonly<Record<AttachTypeName, number>> = Object.freeze({
  cgroup_inet_ingress: BPF_PROG_TYPE.cgroup_skb,
  cgroup_inet_egress: BPF_PROG_TYPE.cgroup_skb,
  cgroup_inet_sock_create: BPF_PROG_TYPE.cgroup_sock,
  cgroup_sock_ops: BPF_PROG_TYPE.sock_ops,
  sk_skb_stream_parser: BPF_PROG_TYPE.sk_skb,
  sk_skb_stream_verdict: BPF_PROG_TYPE.sk_skb,
  sk_skb_verdict: BPF_PROG_TYPE.sk_skb,
  sk_msg_verdict: BPF_PROG_TYPE.sk_msg,
  cgroup_inet4_connect: BPF_PROG_TYPE.cgroup_sock_addr,
  cgroup_inet6_connect: BPF_PROG_TYPE.cgroup_sock_addr,
  xdp: BPF_PROG_TYPE.xdp,
});

/** The number of an attach type given by name (validated) or number. */
export function attachTypeNumber(type: AttachTypeName | number, path = 'attachType'): number {
  if (typeof type === 'number') {
    if (!Number.isInteger(type) || type < 0) throw NA_ERR_BPF_INVALID(`${path}: expected an attach type, got ${type}`);
    return type;
  }
  const n = ATTACH_TYPE[type];
  if (n === undefined) throw NA_ERR_BPF_INVALID(`${path}: expected one of ${Object.keys(ATTACH_TYPE).join(', ')}, got ${JSON.stringify(type)}`);
  return n;
}

/** The name of an attach type number (`attach type 99` for ones this table does not know). */
export function attachTypeName(type: number): string {
  const e = Object.entries(ATTACH_TYPE).find(([, n]) => n === type);
  return e ? e[0] : `attach type ${type}`;
}

/** Throws NA_ERR_BPF_INVALID unless a program of `progType` can be attached as `type`. */
export function checkProgramFits(type: AttachTypeName, progType: number, progName: string): void {
  const want = PROG_TYPE_OF[type];
  if (want === undefined || want === progType) return;
  const n = native();
  const wantName = n.libbpf_bpf_prog_type_str(want) ?? `type ${want}`;
  const haveName = n.libbpf_bpf_prog_type_str(progType) ?? `type ${progType}`;
  throw NA_ERR_BPF_INVALID.with(
    { details: { attachType: type, program: progName, programType: haveName, expectedType: wantName } },
    `attachType: ${type} needs a ${wantName} program, ${progName} is ${haveName}`,
  );
}
