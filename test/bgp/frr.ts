/** FRR 8 (zebra + bgpd) as the upstream router, each instance with its own files and vty sockets. */
import { chownSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Lab } from '@netaccel/netlab';
import { LBS, LB_AS, ROUTER_AS, lbAddr } from '@netaccel/labs';

export interface FrrOptions {
  bfd?: { intervalMs: number; multiplier: number };
  holdTime?: number;
}

export function bgpdConfig(o: FrrOptions = {}): string {
  const hold = o.holdTime ?? 3;
  const keep = Math.max(1, Math.floor(hold / 3));
  const v4 = LBS.map((lb) => lbAddr(lb));
  const v6 = LBS.map((lb) => lbAddr(lb, 6));
  const lines = ['frr defaults traditional', 'hostname router', 'log stdout debugging', `router bgp ${ROUTER_AS}`, ' bgp router-id 10.1.9.1', ' no bgp ebgp-requires-policy', ' no bgp default ipv4-unicast', ` timers bgp ${keep} ${hold}`];
  for (const a of [...v4, ...v6]) {
    lines.push(` neighbor ${a} remote-as ${LB_AS}`, ` neighbor ${a} timers ${keep} ${hold}`, ` neighbor ${a} timers connect 1`);
    if (o.bfd !== undefined) lines.push(` neighbor ${a} bfd`, ` neighbor ${a} bfd profile fast`);
  }
  lines.push(' address-family ipv4 unicast', '  maximum-paths 8', ...v4.map((a) => `  neighbor ${a} activate`), ' exit-address-family');
  lines.push(' address-family ipv6 unicast', '  maximum-paths 8', ...v6.map((a) => `  neighbor ${a} activate`), ' exit-address-family');
  return `${lines.join('\n')}\n`;
}

export interface Frr {
  vtysh(...commands: string[]): Promise<string>;
  json<T>(command: string): Promise<T>;
}

export async function startFrr(lab: Lab, o: FrrOptions = {}): Promise<Frr> {
  const dir = join(lab.logDir, 'frr');
  mkdirSync(dir, { recursive: true });
  const zserv = join(dir, 'zserv.api');
  writeFileSync(join(dir, 'zebra.conf'), 'hostname router\nlog stdout informational\n');
  writeFileSync(join(dir, 'bgpd.conf'), bgpdConfig(o));
  // FRR drops to its own user, which must own the files (and be in the frrvty group it checks)
  const uid = Number(execFileSync('id', ['-u', 'frr']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'frr']).toString().trim());
  chownSync(dir, uid, gid);
  for (const f of readdirSync(dir)) chownSync(join(dir, f), uid, gid);
  const common = ['-z', zserv, '--vty_socket', dir, '-u', 'frr', '-g', 'frr'];
  await lab.spawn('router', ['/usr/lib/frr/zebra', '-f', join(dir, 'zebra.conf'), '-i', join(dir, 'zebra.pid'), ...common], { name: 'zebra', ready: { file: zserv } });
  if (o.bfd !== undefined) {
    const b = o.bfd;
    writeFileSync(join(dir, 'bfdd.conf'), `hostname router\nbfd\n profile fast\n  detect-multiplier ${b.multiplier}\n  receive-interval ${b.intervalMs}\n  transmit-interval ${b.intervalMs}\n !\n!\n`);
    chownSync(join(dir, 'bfdd.conf'), uid, gid);
    await lab.spawn('router', ['/usr/lib/frr/bfdd', '-f', join(dir, 'bfdd.conf'), '-i', join(dir, 'bfdd.pid'), ...common], { name: 'bfdd', ready: { udp: '0.0.0.0:3784' } });
  }
  await lab.spawn('router', ['/usr/lib/frr/bgpd', '-f', join(dir, 'bgpd.conf'), '-i', join(dir, 'bgpd.pid'), '-p', '179', ...common], { name: 'bgpd', ready: { tcp: '0.0.0.0:179' } });
  const vtysh = async (...commands: string[]): Promise<string> =>
    (await lab.exec('router', ['vtysh', '--vty_socket', dir, ...commands.flatMap((c) => ['-c', c])], { timeoutMs: 15_000 })).stdout;
  return { vtysh, json: async <T>(command: string) => JSON.parse(await vtysh(command)) as T };
}

interface Summary {
  ipv4Unicast?: { peers: Record<string, { state: string; pfxRcd?: number }> };
  ipv6Unicast?: { peers: Record<string, { state: string; pfxRcd?: number }> };
}

export async function frrEstablished(frr: Frr): Promise<number> {
  const s = await frr.json<Summary>('show bgp summary json');
  const peers = { ...(s.ipv4Unicast?.peers ?? {}), ...(s.ipv6Unicast?.peers ?? {}) };
  return Object.values(peers).filter((p) => p.state === 'Established').length;
}

export async function frrReceived(frr: Frr, address: string): Promise<number> {
  const s = await frr.json<Summary>('show bgp summary json');
  return s.ipv4Unicast?.peers[address]?.pfxRcd ?? 0;
}
