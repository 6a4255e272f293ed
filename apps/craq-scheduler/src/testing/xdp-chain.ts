/**
 * Test rig: a chain of three bpf/craq XDP nodes on real links, driven by this process. Namespaces
 * n1, n2, n3 (native XDP on each eth0) and a client namespace c on a bridge in sw; each node's
 * object is opened in process (InProcessDataPlane), its program pinned under
 * `/sys/fs/bpf/<prefix>-<pid>-<node>` and attached from the pin, and reached through the
 * scheduler's LoaderNode, as the chain manager reaches a node. The caller gives the prefix (its
 * tests' own) and the /24 the links use; `closeXdpChain` removes what `openXdpChain` made, and
 * `removeStalePins` what a killed run of the same prefix left.
 */
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CRAQ_DESCRIPTOR } from '@netaccel/bpf-programs/craq';
import type { CraqMapName, CraqPeer } from '@netaccel/bpf-programs/craq';
import { CRAQ_OBJECT_PATH, CRAQ_PROGRAM } from '@netaccel/bpf-programs/craq/testing';
import { InProcessDataPlane } from '@netaccel/dataplane';
import type { Lab, LabSpec } from '@netaccel/netlab';
import { craq } from '@netaccel/protocol';
import type { Logger } from '@netaccel/telemetry';
import { LoaderNode } from '../loader-node.js';

export const XDP_CHAIN_NODES = ['n1', 'n2', 'n3'] as const;
export type XdpChainNode = (typeof XDP_CHAIN_NODES)[number];

/** The chain nodes' and the client's addresses in `<net>.0/24` (net: the first three octets, e.g. '10.93.0'). */
export interface XdpChainAddresses {
  readonly n1: string;
  readonly n2: string;
  readonly n3: string;
  readonly c: string;
}

export function xdpChainAddresses(net: string): XdpChainAddresses {
  return { n1: `${net}.1`, n2: `${net}.2`, n3: `${net}.3`, c: `${net}.100` };
}

/** The lab: three chain nodes and a client on one bridge. */
export function xdpChainSpec(name: string, ip: XdpChainAddresses): LabSpec {
  return {
    name,
    nodes: { sw: {}, n1: {}, n2: {}, n3: {}, c: {} },
    links: [
      { a: 'sw:p1', b: 'n1:eth0', bAddr: `${ip.n1}/24` },
      { a: 'sw:p2', b: 'n2:eth0', bAddr: `${ip.n2}/24` },
      { a: 'sw:p3', b: 'n3:eth0', bAddr: `${ip.n3}/24` },
      { a: 'sw:p4', b: 'c:eth0', bAddr: `${ip.c}/24` },
    ],
    bridges: [{ node: 'sw', name: 'br0', ports: ['p1', 'p2', 'p3', 'p4'] }],
  };
}

/** What `openXdpChain` made: the nodes in chain order, their data planes and pins (for closeXdpChain). */
export interface XdpChain {
  readonly nodes: LoaderNode[];
  readonly planes: InProcessDataPlane<CraqMapName>[];
  readonly pins: string[];
}

const SELFTEST = join(dirname(CRAQ_OBJECT_PATH), '..', 'selftest', 'selftest.bpf.o');

/**
 * Opens, pins and attaches a craq node in each of n1..n3 of `lab`. `into` is filled as it goes, so
 * that a failure half-way still leaves closeXdpChain everything to remove.
 */
export async function openXdpChain(lab: Lab, o: { prefix: string; ip: XdpChainAddresses; log: Logger }, into: XdpChain = { nodes: [], planes: [], pins: [] }): Promise<XdpChain> {
  const port = craq.CRAQ_DEFAULT_PORT;
  const peers = new Map<string, CraqPeer>();
  for (const n of XDP_CHAIN_NODES) {
    const eth0 = (await lab.links(n)).find((l) => l.ifname === 'eth0');
    assert.ok(eth0?.address, `${n}: eth0 has a MAC`);
    peers.set(`${o.ip[n]}:${port}`, { ip4: o.ip[n], ip6: '::', mac: eth0.address, port });
  }
  for (const [i, n] of XDP_CHAIN_NODES.entries()) {
    const dp = InProcessDataPlane.open(CRAQ_DESCRIPTOR, CRAQ_OBJECT_PATH);
    into.planes.push(dp);
    const pin = `/sys/fs/bpf/${o.prefix}-${process.pid}-${n}`;
    rmSync(pin, { force: true });
    dp.object.program(CRAQ_PROGRAM).pin(pin);
    into.pins.push(pin);
    await lab.exec(n, ['ip', '-force', 'link', 'set', 'dev', 'eth0', 'xdpdrv', 'pinned', pin], { sysfs: 'host' });
    // XDP_TX frames reach the bridge only when the veth peer has NAPI (an XDP program of its own)
    await lab.exec('sw', ['ip', 'link', 'set', 'dev', `p${i + 1}`, 'xdpdrv', 'obj', SELFTEST, 'sec', 'xdp']);
    into.nodes.push(LoaderNode.overMaps({ name: n, endpoint: { address: o.ip[n], port }, loaderSocket: '', iface: 'eth0', objectPath: CRAQ_OBJECT_PATH, xdpMode: 'native', peers, log: o.log }, dp));
  }
  return into;
}

/** Closes the data planes and removes the pins (the lab's namespaces go with withLab). */
export async function closeXdpChain(chain: XdpChain): Promise<void> {
  for (const p of chain.planes) await p.close();
  for (const pin of chain.pins) rmSync(pin, { force: true });
}

/** Pins of earlier runs of `prefix` whose process is gone (`<prefix>-<pid>-<node>` under /sys/fs/bpf). */
export function removeStalePins(prefix: string): void {
  const re = new RegExp(`^${prefix}-(\\d+)-`);
  for (const name of readdirSync('/sys/fs/bpf')) {
    const pid = re.exec(name)?.[1];
    if (pid === undefined) continue;
    try {
      process.kill(Number(pid), 0);
    } catch {
      rmSync(`/sys/fs/bpf/${name}`, { force: true });
    }
  }
}

/** Polls `check` every 25 ms until it holds; throws naming `what` after `ms`. */
export async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
