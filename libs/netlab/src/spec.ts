/**
 * The topology spec: what a lab is made of (nodes, veth links, bridges, addresses, routes,
 * sysctls), validated once into a frozen `Topology`. Every problem is a
 * NA_ERR_NETLAB_SPEC_INVALID whose message starts with the path of the bad field.
 *
 *   { name: 'lb', nodes: { router: { forwarding: true }, lb1: {} },
 *     links: [{ a: 'router:eth0', b: 'lb1:eth0', aAddr: '10.0.0.1/24', bAddr: ['10.0.0.2/24', 'fd00::2/64'] }] }
 */
import { Checker, describe } from './check.js';
import { ifNameProblem, nextIfName, nodeNameProblem } from './names.js';
import { checkNode } from './spec-node.js';
import { addAddrs, draft } from './spec-types.js';
import type { DraftIfaces, Endpoint, TopoBridge, TopoLink, Topology } from './spec-types.js';

const SPEC_KEYS = ['name', 'nodes', 'links', 'bridges'];
const LINK_KEYS = ['a', 'b', 'aAddr', 'bAddr', 'mtu'];
const BRIDGE_KEYS = ['node', 'name', 'ports', 'addr', 'mtu'];
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const MTU_MIN = 68;
const MTU_MAX = 65535;

/** Validates a spec; throws NA_ERR_NETLAB_SPEC_INVALID naming the first bad field. */
export function validateSpec(input: unknown): Topology {
  const c = new Checker();
  if (typeof input !== 'object' || input === null || Array.isArray(input)) c.fail('spec', `expected an object, got ${describe(input)}`);
  const spec = c.object(input, '', SPEC_KEYS);
  const name = c.string(spec.name, 'name', NAME_RE, '1..64 characters A-Za-z0-9_.- starting with a letter or digit');
  const nodesIn = c.record(spec.nodes, 'nodes');
  const nodeNames = Object.keys(nodesIn);
  if (nodeNames.length === 0) c.fail('nodes', 'expected at least one node');
  const ifaces: DraftIfaces = new Map();
  for (const node of nodeNames) {
    const problem = nodeNameProblem(node);
    if (problem !== undefined) c.fail(`nodes[${JSON.stringify(node)}]`, problem);
    ifaces.set(node, new Map([['lo', draft(node, 'lo', 'loopback', undefined, `nodes.${node}`)]]));
  }
  const linksIn = spec.links === undefined ? [] : c.array(spec.links, 'links');
  const bridgesIn = spec.bridges === undefined ? [] : c.array(spec.bridges, 'bridges');
  const links = checkLinks(c, linksIn, bridgesIn, ifaces);
  const bridges = checkBridges(c, bridgesIn, ifaces);
  const nodes = nodeNames.map((node) => checkNode(c, node, nodesIn[node], ifaces));
  return Object.freeze({ name, nodes: Object.freeze(nodes), links: Object.freeze(links), bridges: Object.freeze(bridges) });
}

interface ParsedEnd {
  node: string;
  ifname: string | undefined;
  path: string;
}

function parseEnd(c: Checker, value: unknown, path: string, ifaces: DraftIfaces): ParsedEnd {
  const text = c.string(value, path, /^[^:]+(:[^:]+)?$/, '"node" or "node:ifname"');
  const [node = '', ifname] = text.split(':');
  if (!ifaces.has(node)) c.fail(path, `no node ${JSON.stringify(node)} (nodes: ${[...ifaces.keys()].join(', ')})`);
  if (ifname !== undefined) {
    const problem = ifNameProblem(ifname);
    if (problem !== undefined) c.fail(path, problem);
  }
  return { node, ifname, path };
}

function checkLinks(c: Checker, linksIn: readonly unknown[], bridgesIn: readonly unknown[], ifaces: DraftIfaces): TopoLink[] {
  // Pass 1: parse ends and reserve every explicit name (bridges included), so `node` ends get a
  // free eth<N> that no later explicit name claims.
  const explicit = new Map<string, string>(); // "node:ifname" → path
  const reserve = (node: string, ifname: string, path: string): void => {
    const key = `${node}:${ifname}`;
    const first = explicit.get(key);
    if (first !== undefined) c.fail(path, `interface ${key} is already used by ${first}`);
    explicit.set(key, path);
  };
  const parsed = linksIn.map((raw, i) => {
    const link = c.object(raw, `links[${i}]`, LINK_KEYS);
    const ends = [parseEnd(c, link.a, `links[${i}].a`, ifaces), parseEnd(c, link.b, `links[${i}].b`, ifaces)] as const;
    for (const end of ends) if (end.ifname !== undefined) reserve(end.node, end.ifname, end.path);
    const mtu = link.mtu === undefined ? undefined : c.int(link.mtu, `links[${i}].mtu`, MTU_MIN, MTU_MAX);
    return { link, ends, mtu };
  });
  bridgesIn.forEach((raw, i) => {
    const br = c.object(raw, `bridges[${i}]`, BRIDGE_KEYS);
    if (typeof br.node === 'string' && typeof br.name === 'string' && ifaces.has(br.node)) {
      reserve(br.node, br.name, `bridges[${i}].name`);
    }
  });
  const taken = (node: string): Set<string> =>
    new Set([...explicit.keys()].filter((k) => k.startsWith(`${node}:`)).map((k) => k.slice(node.length + 1)));
  // Pass 2: name the unnamed ends, create the interfaces and their addresses.
  return parsed.map(({ link, ends, mtu }, i) => {
    const [a, b] = ends.map((end) => {
      const ifname = end.ifname ?? nextIfName(taken(end.node));
      if (end.ifname === undefined) reserve(end.node, ifname, end.path);
      return { node: end.node, ifname };
    }) as [Endpoint, Endpoint];
    const ia = draft(a.node, a.ifname, 'veth', mtu, `links[${i}].a`);
    const ib = draft(b.node, b.ifname, 'veth', mtu, `links[${i}].b`);
    ia.peer = b;
    ib.peer = a;
    ifaces.get(a.node)!.set(a.ifname, ia);
    ifaces.get(b.node)!.set(b.ifname, ib);
    if (link.aAddr !== undefined) addAddrs(c, ia, link.aAddr, `links[${i}].aAddr`);
    if (link.bAddr !== undefined) addAddrs(c, ib, link.bAddr, `links[${i}].bAddr`);
    return Object.freeze({ a: Object.freeze(a), b: Object.freeze(b), mtu });
  });
}

function checkBridges(c: Checker, bridgesIn: readonly unknown[], ifaces: DraftIfaces): TopoBridge[] {
  return bridgesIn.map((raw, i) => {
    const path = `bridges[${i}]`;
    const br = c.object(raw, path, BRIDGE_KEYS);
    const node = c.string(br.node, `${path}.node`);
    const nodeIfaces = ifaces.get(node);
    if (nodeIfaces === undefined) c.fail(`${path}.node`, `no node ${JSON.stringify(node)} (nodes: ${[...ifaces.keys()].join(', ')})`);
    const name = c.string(br.name, `${path}.name`);
    const problem = ifNameProblem(name);
    if (problem !== undefined) c.fail(`${path}.name`, problem);
    const mtu = br.mtu === undefined ? undefined : c.int(br.mtu, `${path}.mtu`, MTU_MIN, MTU_MAX);
    const ports = c.array(br.ports, `${path}.ports`).map((p, j) => {
      const portPath = `${path}.ports[${j}]`;
      const port = c.string(p, portPath);
      const iface = nodeIfaces.get(port);
      if (iface?.kind !== 'veth') {
        const veths = [...nodeIfaces.values()].filter((x) => x.kind === 'veth').map((x) => x.ifname);
        c.fail(portPath, `${node} has no veth ${JSON.stringify(port)} to enslave (veths: ${veths.join(', ') || 'none'})`);
      }
      if (iface.master !== undefined) c.fail(portPath, `${node}:${port} is already a port of bridge ${iface.master}`);
      if (iface.addrs.length > 0) {
        c.fail(portPath, `${node}:${port} has addresses (${iface.addrPaths[0]}); a bridge port should not, put them on the bridge (${path}.addr)`);
      }
      iface.master = name;
      return port;
    });
    if (ports.length === 0) c.fail(`${path}.ports`, 'expected at least one port');
    const iface = draft(node, name, 'bridge', mtu, path);
    nodeIfaces.set(name, iface);
    if (br.addr !== undefined) addAddrs(c, iface, br.addr, `${path}.addr`);
    return Object.freeze({ node, name, ports: Object.freeze(ports), mtu });
  });
}
