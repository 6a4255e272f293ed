/**
 * Turns a validated topology into the commands that build it — pure, so the exact commands are
 * unit-tested (build.ts runs them). Two stages:
 *   1. one `ip -batch` in the root namespace: `netns add` for every node, then every veth and
 *      bridge created directly inside its namespace(s) (`link add name eth0 netns A index 100 type
 *      veth peer name eth0 netns B index 101`) — nothing ever appears in the root namespace, so
 *      root-side names cannot clash and a crash cannot leave root-side interfaces behind;
 *   2. per node, in parallel, one process inside the namespace (`nsenter --net=…`, which unlike
 *      `ip netns exec` does not remount /sys): `sysctl -p` of the node's file (DAD off, forwarding,
 *      the spec's sysctls) while the interfaces are still down, then `ip -batch` of bridge ports,
 *      addresses (IPv6 with `nodad`), links up and routes, then a wait until the node's links
 *      report operstate UP (IPv6 on a link starts only then).
 */
import type { Route, Topology, TopoNode } from './spec-types.js';

export interface SysctlFile {
  readonly node: string;
  readonly path: string;
  /** sysctl.conf(5) text. */
  readonly content: string;
}

export interface NodeBatch {
  readonly node: string;
  readonly ns: string;
  readonly sysctlPath: string;
  /** `ip -batch` lines run inside the namespace. */
  readonly lines: readonly string[];
  /** Interfaces to wait for until their operstate is UP. */
  readonly waitUp: readonly string[];
}

export interface UpPlan {
  readonly root: readonly string[];
  readonly sysctlFiles: readonly SysctlFile[];
  readonly nodes: readonly NodeBatch[];
}

/** First interface index given to veth ends (lo is 1; interfaces made later get free ones). */
export const FIRST_VETH_INDEX = 100;

/**
 * Interface indexes of the two ends of link `i`, distinct across the lab. They matter: the kernel
 * handles a carrier change at once only when a device's index differs from its peer's
 * (linkwatch_urgent_event); two fresh namespaces would both give index 2, and the change would
 * then wait up to 1 s — and IPv6 on the link with it (no neighbour discovery until then).
 */
export function vethIndexes(i: number): [number, number] {
  return [FIRST_VETH_INDEX + 2 * i, FIRST_VETH_INDEX + 2 * i + 1];
}

/**
 * The per-node script, run as `sh -c NODE_SCRIPT netlab <sysctl-file> <rounds> <ifname>…` with
 * the batch on stdin. Exit 1: sysctl failed; 2: the batch failed (stderr says which line);
 * 3: interfaces not UP after <rounds> rounds of a probe and a 10 ms sleep (stderr lists them).
 */
export const NODE_SCRIPT = [
  'sysctl -q -p "$1" || exit 1',
  'ip -batch - || exit 2',
  'rounds=$2; shift 2',
  '[ $# -eq 0 ] && exit 0',
  'while :; do',
  '  down=$(ip -br link show | awk \'BEGIN { for (i = 1; i < ARGC; i++) need[ARGV[i]] = 1; ARGC = 1 }' +
    ' { n = $1; sub(/@.*/, "", n); if ($2 == "UP") delete need[n] } END { for (k in need) printf " %s", k }\' "$@")',
  '  [ -z "$down" ] && exit 0',
  '  rounds=$((rounds - 1))',
  '  if [ "$rounds" -le 0 ]; then echo "interfaces not up:$down" >&2; exit 3; fi',
  '  sleep 0.01',
  'done',
].join('\n');

/** `ip route add …` arguments for one route (without the leading `ip`). */
export function routeLine(r: Route): string {
  const parts = ['route', 'add'];
  if (r.type !== 'unicast') parts.push(r.type);
  parts.push(r.to);
  if (r.table !== undefined) parts.push('table', String(r.table));
  if (r.metric !== undefined) parts.push('metric', String(r.metric));
  if (r.src !== undefined) parts.push('src', r.src);
  if (r.via !== undefined) parts.push('via', r.via);
  if (r.dev !== undefined) parts.push('dev', r.dev);
  for (const nh of r.nexthops) {
    parts.push('nexthop', 'via', nh.via);
    if (nh.dev !== undefined) parts.push('dev', nh.dev);
    if (nh.weight !== undefined) parts.push('weight', String(nh.weight));
  }
  return parts.join(' ');
}

/** sysctl.conf text for a node: DAD and its start delay off everywhere (addresses usable at once), then its own. */
export function sysctlConf(node: TopoNode): string {
  const lines: string[] = [];
  for (const conf of ['all', 'default', ...node.ifaces.filter((i) => i.kind !== 'loopback').map((i) => i.ifname)]) {
    lines.push(`net.ipv6.conf.${conf}.accept_dad = 0`);
    // The kernel starts an address (and joins its solicited-node group, without which neighbour
    // discovery for it fails) after a random delay below router_solicitation_delay — up to 1 s —
    // even with DAD off; 0 makes addresses answer at once.
    lines.push(`net.ipv6.conf.${conf}.router_solicitation_delay = 0`);
  }
  for (const [key, value] of node.sysctls) lines.push(`${key} = ${value}`);
  return `${lines.join('\n')}\n`;
}

function mtu(value: number | undefined): string {
  return value === undefined ? '' : ` mtu ${value}`;
}

export function planUp(topo: Topology, nsOf: (node: string) => string, sysctlPath: (node: string) => string): UpPlan {
  const root: string[] = topo.nodes.map((n) => `netns add ${nsOf(n.name)}`);
  topo.links.forEach((l, i) => {
    const [ia, ib] = vethIndexes(i);
    root.push(
      `link add name ${l.a.ifname} netns ${nsOf(l.a.node)} index ${ia}${mtu(l.mtu)} type veth ` +
        `peer name ${l.b.ifname} netns ${nsOf(l.b.node)} index ${ib}${mtu(l.mtu)}`,
    );
  });
  for (const b of topo.bridges) root.push(`link add name ${b.name} netns ${nsOf(b.node)}${mtu(b.mtu)} type bridge stp_state 0`);
  const sysctlFiles = topo.nodes.map((n) => ({ node: n.name, path: sysctlPath(n.name), content: sysctlConf(n) }));

  const nodes = topo.nodes.map((n): NodeBatch => {
    const lines: string[] = [];
    for (const b of topo.bridges.filter((x) => x.node === n.name)) {
      for (const port of b.ports) lines.push(`link set dev ${port} master ${b.name}`);
    }
    for (const i of n.ifaces) {
      for (const a of i.addrs) lines.push(`address add ${a.addr}/${a.len} dev ${i.ifname}${a.family === 6 ? ' nodad' : ''}`);
    }
    for (const i of n.ifaces) lines.push(`link set dev ${i.ifname} up`);
    for (const r of n.routes) lines.push(routeLine(r));
    // Every veth end; a bridge only when it has addresses (its own state matters only for
    // traffic to or from the bridge itself, and the kernel may report it up to 1 s late).
    const waitUp = n.ifaces.filter((i) => i.kind === 'veth' || (i.kind === 'bridge' && i.addrs.length > 0)).map((i) => i.ifname);
    return { node: n.name, ns: nsOf(n.name), sysctlPath: sysctlPath(n.name), lines, waitUp };
  });
  return { root, sysctlFiles, nodes };
}
