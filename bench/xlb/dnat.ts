/**
 * The kube-proxy baseline on the balancer node: iptables DNAT of the VIP to the backends, chosen
 * at random per connection (`-m statistic --mode random`, as kube-proxy's iptables mode writes
 * its KUBE-SVC chains), conntrack translating the rest of the flow and the replies.
 *
 * The rules exist only while the baseline runs: removing them also deletes the nat table
 * (iptables-nft), so its hooks and conntrack do not tax the other subjects.
 */
import type { Lab } from '@netaccel/netlab';
import { XLB_BENCH_NET as NET, XLB_BENCH_VIP as VIP } from '@netaccel/labs';

export function dnatRules(protocol: 'tcp' | 'udp', port: number): string {
  const n = NET.backends.length;
  const lines = ['*nat', ':PREROUTING ACCEPT [0:0]', ':XLB-SVC - [0:0]', `-A PREROUTING -d ${VIP.dnat}/32 -p ${protocol} -m ${protocol} --dport ${port} -j XLB-SVC`];
  NET.backends.forEach((be, i) => {
    const pick = i < n - 1 ? `-m statistic --mode random --probability ${(1 / (n - i)).toFixed(5)} ` : '';
    lines.push(`-A XLB-SVC -p ${protocol} ${pick}-j DNAT --to-destination ${be}:${port}`);
  });
  lines.push('COMMIT', '');
  return lines.join('\n');
}

export async function installDnat(lab: Lab, protocol: 'tcp' | 'udp', port: number): Promise<void> {
  await lab.exec('lb', ['iptables-restore', '-w'], { input: dnatRules(protocol, port) });
}

/** Deletes the rules and the nat table; conntrack entries of the run are flushed with it. */
export async function removeDnat(lab: Lab): Promise<void> {
  await lab.exec('lb', ['nft', 'delete', 'table', 'ip', 'nat'], { check: false });
}
