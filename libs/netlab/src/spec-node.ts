/**
 * Validation of one node of a spec: forwarding, sysctls, extra addresses and routes (plain,
 * ECMP `nexthops`, default, IPv6, blackhole-like types). Gateways are checked the way the kernel
 * checks them — they must lie on a subnet of one of the node's interfaces (or be link-local with a
 * `dev`) — so a typo fails here with the field path instead of as "Nexthop has invalid gateway".
 */
import { canonicalIp, ipFamily, isLinkLocalIPv6 } from '@netaccel/protocol';
import type { IpFamily } from '@netaccel/protocol';
import { cidrContains, interfaceAddress, isNetworkAddress } from './addr.js';
import { join } from './check.js';
import type { Checker } from './check.js';
import { addAddrs, freezeIface } from './spec-types.js';
import type { DraftIface, DraftIfaces, Nexthop, Route, RouteType, TopoNode } from './spec-types.js';

const NODE_KEYS = ['forwarding', 'sysctls', 'addrs', 'routes'];
const ROUTE_KEYS = ['to', 'via', 'dev', 'nexthops', 'metric', 'src', 'table', 'type'];
const NEXTHOP_KEYS = ['via', 'dev', 'weight'];
const ROUTE_TYPES: readonly RouteType[] = ['unicast', 'blackhole', 'unreachable', 'prohibit'];
const SYSCTL_KEY_RE = /^[a-z0-9_]+(\.[A-Za-z0-9_-]+)+$/;
const U32_MAX = 0xffffffff;

export function checkNode(c: Checker, node: string, raw: unknown, ifaces: DraftIfaces): TopoNode {
  const path = `nodes.${node}`;
  const spec = c.object(raw, path, NODE_KEYS);
  const nodeIfaces = ifaces.get(node)!;
  const sysctls: (readonly [string, string])[] = [];
  if (spec.forwarding !== undefined && c.boolean(spec.forwarding, `${path}.forwarding`)) {
    sysctls.push(['net.ipv4.ip_forward', '1'], ['net.ipv6.conf.all.forwarding', '1']);
  }
  if (spec.sysctls !== undefined) {
    for (const [key, value] of Object.entries(c.record(spec.sysctls, `${path}.sysctls`))) {
      sysctls.push([key, sysctlValue(c, key, value, join(`${path}.sysctls`, key), nodeIfaces)]);
    }
  }
  if (spec.addrs !== undefined) {
    for (const [ifname, list] of Object.entries(c.record(spec.addrs, `${path}.addrs`))) {
      const iface = nodeIfaces.get(ifname);
      const at = join(`${path}.addrs`, ifname);
      if (iface === undefined) c.fail(at, `${node} has no interface ${JSON.stringify(ifname)} (interfaces: ${[...nodeIfaces.keys()].join(', ')})`);
      addAddrs(c, iface, list, at);
    }
  }
  const routes = spec.routes === undefined
    ? []
    : c.array(spec.routes, `${path}.routes`).map((r, i) => checkRoute(c, r, `${path}.routes[${i}]`, node, nodeIfaces));
  return Object.freeze({
    name: node,
    sysctls: Object.freeze(sysctls),
    routes: Object.freeze(routes),
    ifaces: Object.freeze([...nodeIfaces.values()].map(freezeIface)),
  });
}

function sysctlValue(c: Checker, key: string, value: unknown, path: string, ifaces: Map<string, DraftIface>): string {
  if (!SYSCTL_KEY_RE.test(key)) c.fail(path, 'expected a dotted sysctl key like net.ipv4.ip_forward');
  const conf = /^net\.ipv[46]\.conf\.([^.]+)\./.exec(key)?.[1];
  if (conf !== undefined && conf !== 'all' && conf !== 'default' && !ifaces.has(conf)) {
    c.fail(path, `names interface ${conf}, which the node does not have (interfaces: ${[...ifaces.keys()].join(', ')})`);
  }
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '' && !/[\n\r]/.test(value)) return value.trim();
  return c.fail(path, `expected a number, a boolean or a one-line string, got ${JSON.stringify(value)}`);
}

function checkAddr(c: Checker, value: unknown, path: string): { addr: string; family: IpFamily } {
  const text = c.string(value, path);
  const family = ipFamily(text);
  if (family === undefined) c.fail(path, `${JSON.stringify(text)} is not an IPv4 or IPv6 address`);
  return { addr: canonicalIp(text), family };
}

function subnets(ifaces: Map<string, DraftIface>, family: IpFamily): string {
  const list = [...ifaces.values()].flatMap((i) => i.addrs.filter((a) => a.family === family && i.kind !== 'loopback').map((a) => `${a.text} on ${i.ifname}`));
  return list.length === 0 ? `it has no IPv${family} subnet` : list.join(', ');
}

function checkDev(c: Checker, value: unknown, path: string, node: string, ifaces: Map<string, DraftIface>): string {
  const dev = c.string(value, path);
  const iface = ifaces.get(dev);
  if (iface === undefined) c.fail(path, `${node} has no interface ${JSON.stringify(dev)} (interfaces: ${[...ifaces.keys()].join(', ')})`);
  if (iface.master !== undefined) c.fail(path, `${node}:${dev} is a port of bridge ${iface.master}; route via the bridge`);
  return dev;
}

/** The kernel's rule: a gateway is on a connected subnet (or link-local with a device). */
function checkGateway(
  c: Checker, node: string, ifaces: Map<string, DraftIface>,
  via: { addr: string; family: IpFamily }, viaPath: string, dev: string | undefined, devPath: string,
): void {
  if (isLinkLocalIPv6(via.addr)) {
    if (dev === undefined) c.fail(viaPath, `link-local gateway ${via.addr} needs a dev`);
    return;
  }
  const on = [...ifaces.values()].filter((i) => i.kind !== 'loopback' && i.master === undefined && i.addrs.some((a) => cidrContains(a, via.addr)));
  if (on.length === 0) c.fail(viaPath, `gateway ${via.addr} is on no subnet of ${node} (${subnets(ifaces, via.family)})`);
  if (on.some((i) => i.addrs.some((a) => a.addr === via.addr))) c.fail(viaPath, `gateway ${via.addr} is an address of ${node} itself`);
  if (dev !== undefined && !on.some((i) => i.ifname === dev)) c.fail(devPath, `gateway ${via.addr} is not on a subnet of ${dev}`);
}

function checkRoute(c: Checker, raw: unknown, path: string, node: string, ifaces: Map<string, DraftIface>): Route {
  const r = c.object(raw, path, ROUTE_KEYS);
  const toText = c.string(r.to, `${path}.to`);
  const type = r.type === undefined ? 'unicast' : (c.string(r.type, `${path}.type`) as RouteType);
  if (!ROUTE_TYPES.includes(type)) c.fail(`${path}.type`, `expected one of ${ROUTE_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
  const via = r.via === undefined ? undefined : checkAddr(c, r.via, `${path}.via`);
  const dev = r.dev === undefined ? undefined : checkDev(c, r.dev, `${path}.dev`, node, ifaces);
  const nexthopsIn = r.nexthops === undefined ? undefined : c.array(r.nexthops, `${path}.nexthops`);
  if (nexthopsIn !== undefined) {
    if (via !== undefined || dev !== undefined) c.fail(`${path}.nexthops`, 'use either nexthops or via/dev, not both');
    if (nexthopsIn.length === 0) c.fail(`${path}.nexthops`, 'expected at least one nexthop');
  }
  if (type === 'unicast' && via === undefined && dev === undefined && nexthopsIn === undefined) {
    c.fail(path, 'a unicast route needs via, dev or nexthops');
  }
  if (type !== 'unicast' && (via !== undefined || dev !== undefined || nexthopsIn !== undefined)) {
    c.fail(`${path}.type`, `a ${type} route takes no via, dev or nexthops`);
  }
  const firstVia = via?.addr ?? (nexthopsIn?.[0] as { via?: unknown } | undefined)?.via;
  const family = routeFamily(c, toText, `${path}.to`, typeof firstVia === 'string' ? ipFamily(firstVia) : undefined);
  const to = routeDestination(c, toText, `${path}.to`, family);
  if (via !== undefined) {
    if (via.family !== family) c.fail(`${path}.via`, `gateway ${via.addr} is IPv${via.family} but the route is IPv${family}`);
    checkGateway(c, node, ifaces, via, `${path}.via`, dev, `${path}.dev`);
  }
  const nexthops = (nexthopsIn ?? []).map((raw, i): Nexthop => {
    const at = `${path}.nexthops[${i}]`;
    const nh = c.object(raw, at, NEXTHOP_KEYS);
    const gw = checkAddr(c, nh.via, `${at}.via`);
    if (gw.family !== family) c.fail(`${at}.via`, `gateway ${gw.addr} is IPv${gw.family} but the route is IPv${family}`);
    const nhDev = nh.dev === undefined ? undefined : checkDev(c, nh.dev, `${at}.dev`, node, ifaces);
    checkGateway(c, node, ifaces, gw, `${at}.via`, nhDev, `${at}.dev`);
    const weight = nh.weight === undefined ? undefined : c.int(nh.weight, `${at}.weight`, 1, 256);
    return Object.freeze({ via: gw.addr, dev: nhDev, weight });
  });
  let src: string | undefined;
  if (r.src !== undefined) {
    const s = checkAddr(c, r.src, `${path}.src`);
    if (s.family !== family) c.fail(`${path}.src`, `${s.addr} is IPv${s.family} but the route is IPv${family}`);
    if (![...ifaces.values()].some((i) => i.addrs.some((a) => a.addr === s.addr))) c.fail(`${path}.src`, `${s.addr} is not an address of ${node}`);
    src = s.addr;
  }
  return Object.freeze({
    to,
    family,
    type,
    via: via?.addr,
    dev,
    nexthops: Object.freeze(nexthops),
    metric: r.metric === undefined ? undefined : c.int(r.metric, `${path}.metric`, 0, U32_MAX),
    src,
    table: r.table === undefined ? undefined : c.int(r.table, `${path}.table`, 1, U32_MAX),
  });
}

function routeFamily(c: Checker, to: string, path: string, gatewayFamily: IpFamily | undefined): IpFamily {
  if (to === 'default') {
    if (gatewayFamily === undefined) c.fail(path, '"default" without a gateway has no address family; write 0.0.0.0/0 or ::/0');
    return gatewayFamily;
  }
  const family = ipFamily(to.split('/')[0] ?? '');
  if (family === undefined) c.fail(path, `expected "default", a prefix like 10.1.0.0/16 or an address, got ${JSON.stringify(to)}`);
  return family;
}

function routeDestination(c: Checker, to: string, path: string, family: IpFamily): string {
  if (to === 'default') return family === 4 ? '0.0.0.0/0' : '::/0';
  const cidr = interfaceAddress(to.includes('/') ? to : `${to}/${family === 4 ? 32 : 128}`);
  if (typeof cidr === 'string') c.fail(path, cidr);
  if (!isNetworkAddress(cidr)) c.fail(path, `${to} has host bits set; write the prefix itself`);
  return `${cidr.addr}/${cidr.len}`;
}
