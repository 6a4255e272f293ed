/**
 * Read-only questions about a lab's topology that need no kernel: its nodes, their interfaces
 * and the addresses the spec gave them. `Lab` extends this.
 */
import type { IpFamily } from './addr.js';
import { NA_ERR_NETLAB_NO_ADDR, NA_ERR_NETLAB_UNKNOWN_IFACE, NA_ERR_NETLAB_UNKNOWN_NODE } from './errors.js';
import type { Iface, TopoNode, Topology } from './spec-types.js';

export class LabNodes {
  constructor(readonly topology: Topology) {}

  /** Node names in spec order. */
  nodes(): string[] {
    return this.topology.nodes.map((n) => n.name);
  }

  /** A node of the topology; NA_ERR_NETLAB_UNKNOWN_NODE when there is none of that name. */
  node(name: string): TopoNode {
    const node = this.topology.nodes.find((n) => n.name === name);
    if (node === undefined) throw NA_ERR_NETLAB_UNKNOWN_NODE(this.topology.name, name, this.nodes().join(', '));
    return node;
  }

  /** An interface of a node (lo, veth ends, bridges). */
  iface(node: string, ifname: string): Iface {
    const n = this.node(node);
    const iface = n.ifaces.find((i) => i.ifname === ifname);
    if (iface === undefined) throw NA_ERR_NETLAB_UNKNOWN_IFACE(node, ifname, n.ifaces.map((i) => i.ifname).join(', '));
    return iface;
  }

  /** The addresses of an interface as written (`10.0.0.2/24`). */
  addrs(node: string, ifname: string): string[] {
    return this.iface(node, ifname).addrs.map((a) => `${a.addr}/${a.len}`);
  }

  /** The first address of an interface without prefix length (`10.0.0.2`); IPv4 unless `family` is 6. */
  addr(node: string, ifname: string, family: IpFamily = 4): string {
    const found = this.iface(node, ifname).addrs.find((a) => a.family === family);
    if (found === undefined) throw NA_ERR_NETLAB_NO_ADDR(node, ifname, `IPv${family}`);
    return found.addr;
  }
}
