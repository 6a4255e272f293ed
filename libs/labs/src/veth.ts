/**
 * The veth quirks, in one place. They are properties of veth devices, not of the product (a NIC
 * has neither), and every lab that runs XDP on a veth needs them:
 *
 * - **XDP_TX needs NAPI on the peer.** A frame an XDP program sends back out of a veth
 *   (XDP_TX, or a redirect into a veth) is delivered only when the receiving end has NAPI,
 *   which a veth gets from an XDP program of its own. So the switch port facing a balancer gets
 *   a program that passes everything (`napiForXdpTx`).
 * - **XDP_TX cannot complete a partial checksum.** With transmit checksum offload on, a veth
 *   frame carries a partial checksum that only the skb's metadata completes; XDP_TX loses that
 *   metadata. So the senders towards a balancer switch offload off and hand it complete
 *   checksums (`completeChecksums`).
 *
 * And the test helper every BPF test on a veth repeats: a veth pair whose host end stays in the
 * root namespace and whose peer lives in a namespace of its own (`vethToNamespace`).
 */
import { execFileSync } from 'node:child_process';
import type { Lab } from '@netaccel/netlab';
import { NA_ERR_LAB_VETH_FAILED } from './errors.js';

/** Switches transmit checksum offload off on `ifname` of each node (default eth0). */
export async function completeChecksums(lab: Lab, nodes: readonly string[], ifname = 'eth0'): Promise<void> {
  for (const n of nodes) await lab.exec(n, ['ethtool', '-K', ifname, 'tx', 'off']);
}

/**
 * Gives node:ifname NAPI by attaching, in native mode, the XDP program of `object`'s section
 * `section` (a program that passes everything: the selftest object's `xdp`).
 */
export async function napiForXdpTx(lab: Lab, node: string, ifnames: readonly string[], object: string, section = 'xdp'): Promise<void> {
  for (const ifname of ifnames) await lab.exec(node, ['ip', 'link', 'set', 'dev', ifname, 'xdpdrv', 'obj', object, 'sec', section]);
}

export interface VethToNamespaceOptions {
  /** The namespace made for the peer end. */
  readonly ns: string;
  /** The host end's name (stays in the root namespace). */
  readonly hostIf: string;
  /** The peer end's name (moved into `ns`). */
  readonly peerIf: string;
  /** Addresses with their prefix length (`10.100.1.1/24`). */
  readonly hostAddr: string;
  readonly peerAddr: string;
  /** Also bring the namespace's lo up (default false). */
  readonly loopbackUp?: boolean;
}

export interface VethToNamespace {
  /** `ip` inside the namespace, or any command run there (`ip netns exec <ns> …`); answers stdout. */
  exec(cmd: string, ...args: string[]): string;
  /** Deletes the namespace and the host end, whatever exists of them; true when the namespace is gone. */
  remove(): boolean;
}

function run(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message?: string };
    throw NA_ERR_LAB_VETH_FAILED.with({ cause: err }, [cmd, ...args].join(' '), (e.stderr ?? e.message ?? String(err)).trim());
  }
}

function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // teardown of something that may not exist
  }
}

/** Makes the namespace and the veth pair, addressed and up (synchronous: for beforeAll). */
export function vethToNamespace(o: VethToNamespaceOptions): VethToNamespace {
  const handle: VethToNamespace = {
    exec: (cmd, ...args) => run('ip', ['netns', 'exec', o.ns, cmd, ...args]),
    remove: () => {
      quietly(() => run('ip', ['netns', 'del', o.ns]));
      quietly(() => run('ip', ['link', 'del', o.hostIf]));
      return !run('ip', ['netns', 'list']).split('\n').some((l) => l.split(' ')[0] === o.ns);
    },
  };
  try {
    run('ip', ['netns', 'add', o.ns]);
    run('ip', ['link', 'add', o.hostIf, 'type', 'veth', 'peer', 'name', o.peerIf]);
    run('ip', ['link', 'set', o.peerIf, 'netns', o.ns]);
    run('ip', ['addr', 'add', o.hostAddr, 'dev', o.hostIf]);
    run('ip', ['link', 'set', o.hostIf, 'up']);
    run('ip', ['-n', o.ns, 'addr', 'add', o.peerAddr, 'dev', o.peerIf]);
    run('ip', ['-n', o.ns, 'link', 'set', o.peerIf, 'up']);
    if (o.loopbackUp === true) run('ip', ['-n', o.ns, 'link', 'set', 'lo', 'up']);
  } catch (err) {
    handle.remove();
    throw err;
  }
  return handle;
}
