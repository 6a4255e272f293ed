/**
 * Types of the topology spec (what callers write) and of the validated `Topology` (what the lab
 * builds from), plus the draft interfaces the validators fill in before freezing them.
 */
import { interfaceAddress } from './addr.js';
import type { Cidr } from './addr.js';
import type { Checker } from './check.js';

export type AddrList = string | readonly string[];
export type SysctlValue = string | number | boolean;
export type RouteType = 'unicast' | 'blackhole' | 'unreachable' | 'prohibit';

export interface LabSpec {
  /** A label for logs, the registry and the log folder: 1..64 of A-Za-z0-9_.- */
  readonly name: string;
  /** Node name (a-z0-9_-, ≤32) → node. Each node is one network namespace. */
  readonly nodes: Readonly<Record<string, NodeSpec>>;
  readonly links?: readonly LinkSpec[];
  readonly bridges?: readonly BridgeSpec[];
}

export interface NodeSpec {
  /** Shorthand for `net.ipv4.ip_forward=1` and `net.ipv6.conf.all.forwarding=1`. */
  readonly forwarding?: boolean;
  /** Set inside the node's namespace after its interfaces exist, before addresses and routes. */
  readonly sysctls?: Readonly<Record<string, SysctlValue>>;
  /** Extra addresses by interface, e.g. `{ lo: '192.0.2.1/32' }` for a VIP or router id. */
  readonly addrs?: Readonly<Record<string, AddrList>>;
  readonly routes?: readonly RouteSpec[];
}

export interface LinkSpec {
  /** `node:ifname`, or just `node` for the node's first free `eth<N>`. */
  readonly a: string;
  readonly b: string;
  readonly aAddr?: AddrList;
  readonly bAddr?: AddrList;
  /** Both ends; 68..65535. */
  readonly mtu?: number;
}

export interface BridgeSpec {
  readonly node: string;
  readonly name: string;
  /** Interfaces of `node` (veth ends of links) to enslave. */
  readonly ports: readonly string[];
  readonly addr?: AddrList;
  readonly mtu?: number;
}

export interface RouteSpec {
  /** `default`, a prefix (`10.1.0.0/16`, `fd01::/64`) or a host address. */
  readonly to: string;
  readonly via?: string;
  readonly dev?: string;
  /** ECMP: `nexthop via … nexthop via …`; excludes `via` and `dev`. */
  readonly nexthops?: readonly NexthopSpec[];
  readonly metric?: number;
  /** Preferred source address; must be an address of the node. */
  readonly src?: string;
  readonly table?: number;
  readonly type?: RouteType;
}

export interface NexthopSpec {
  readonly via: string;
  readonly dev?: string;
  /** 1..256 */
  readonly weight?: number;
}

export type IfaceKind = 'loopback' | 'veth' | 'bridge';

export interface Endpoint {
  readonly node: string;
  readonly ifname: string;
}

export interface Iface extends Endpoint {
  readonly kind: IfaceKind;
  readonly addrs: readonly Cidr[];
  readonly mtu: number | undefined;
  /** The bridge this interface is a port of. */
  readonly master: string | undefined;
  /** The other end of a veth. */
  readonly peer: Endpoint | undefined;
  /** Where in the spec the interface comes from (`links[0].b`), for messages. */
  readonly origin: string;
}

export interface Nexthop {
  readonly via: string;
  readonly dev: string | undefined;
  readonly weight: number | undefined;
}

export interface Route {
  /** A prefix; `default` becomes 0.0.0.0/0 or ::/0. */
  readonly to: string;
  readonly family: 4 | 6;
  readonly type: RouteType;
  readonly via: string | undefined;
  readonly dev: string | undefined;
  readonly nexthops: readonly Nexthop[];
  readonly metric: number | undefined;
  readonly src: string | undefined;
  readonly table: number | undefined;
}

export interface TopoNode {
  readonly name: string;
  /** [key, value] in the order they are applied (forwarding first, then `sysctls`). */
  readonly sysctls: readonly (readonly [string, string])[];
  readonly routes: readonly Route[];
  /** `lo` first, then veth ends and bridges in spec order. */
  readonly ifaces: readonly Iface[];
}

export interface TopoLink {
  readonly a: Endpoint;
  readonly b: Endpoint;
  readonly mtu: number | undefined;
}

export interface TopoBridge {
  readonly node: string;
  readonly name: string;
  readonly ports: readonly string[];
  readonly mtu: number | undefined;
}

export interface Topology {
  readonly name: string;
  readonly nodes: readonly TopoNode[];
  readonly links: readonly TopoLink[];
  readonly bridges: readonly TopoBridge[];
}

/** An interface while the spec is being checked; frozen into `Iface` at the end. */
export interface DraftIface {
  node: string;
  ifname: string;
  kind: IfaceKind;
  addrs: Cidr[];
  mtu: number | undefined;
  master: string | undefined;
  peer: Endpoint | undefined;
  origin: string;
  /** Path of each address, for messages. */
  addrPaths: string[];
}

export type DraftIfaces = Map<string, Map<string, DraftIface>>;

export function draft(node: string, ifname: string, kind: IfaceKind, mtu: number | undefined, origin: string): DraftIface {
  return { node, ifname, kind, addrs: [], mtu, master: undefined, peer: undefined, origin, addrPaths: [] };
}

/** Parses an AddrList onto an interface; duplicates on one interface are an error. */
export function addAddrs(c: Checker, iface: DraftIface, value: unknown, path: string): void {
  for (const item of c.stringList(value, path)) {
    const cidr = interfaceAddress(item.value);
    if (typeof cidr === 'string') c.fail(item.path, cidr);
    const dup = iface.addrs.findIndex((x) => x.addr === cidr.addr);
    if (dup >= 0) c.fail(item.path, `${cidr.addr} is already on ${iface.node}:${iface.ifname} (${iface.addrPaths[dup]})`);
    if (iface.master !== undefined) {
      c.fail(item.path, `${iface.node}:${iface.ifname} is a port of bridge ${iface.master}; put the address on the bridge`);
    }
    iface.addrs.push(cidr);
    iface.addrPaths.push(item.path);
  }
}

/** Freezes a draft interface. */
export function freezeIface(d: DraftIface): Iface {
  return Object.freeze({
    node: d.node,
    ifname: d.ifname,
    kind: d.kind,
    addrs: Object.freeze([...d.addrs]),
    mtu: d.mtu,
    master: d.master,
    peer: d.peer,
    origin: d.origin,
  });
}
