/** BIRD 2 as the upstream router: configuration, start, birdc. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, LabProcess } from '@netaccel/netlab';
import type { LbName } from '@netaccel/labs';
import { LBS, LB_AS, ROUTER_AS, lbAddr, routerAddr } from '@netaccel/labs';

export interface BirdOptions {
  /** BFD on the sessions, with these intervals (ms). */
  bfd?: { intervalMs: number; multiplier: number };
  gracefulRestart?: boolean;
  /** Per announcer, a TCP MD5 password. */
  passwords?: Partial<Record<LbName, string>>;
  holdTime?: number;
  ipv6?: boolean;
  node?: string;
  /** Announcers BIRD only listens for (`passive on`). */
  passive?: LbName[];
}

export function birdConfig(o: BirdOptions = {}): string {
  const hold = o.holdTime ?? 3;
  const lines = [
    'log stderr all;',
    'router id 10.1.9.1;',
    'protocol device { scan time 1; }',
    'protocol kernel k4 { ipv4 { import none; export all; }; merge paths on; }',
    'protocol kernel k6 { ipv6 { import none; export all; }; merge paths on; }',
  ];
  if (o.bfd !== undefined) {
    lines.push(`protocol bfd { interface "*" { min rx interval ${o.bfd.intervalMs} ms; min tx interval ${o.bfd.intervalMs} ms; idle tx interval 1000 ms; multiplier ${o.bfd.multiplier}; }; }`);
  }
  for (const lb of LBS) {
    const common = [
      `  hold time ${hold}; keepalive time ${Math.max(1, Math.floor(hold / 3))}; connect retry time 1; error wait time 1, 2;`,
      o.bfd !== undefined ? '  bfd on;' : '',
      o.gracefulRestart === true ? '  graceful restart on; graceful restart time 30;' : '',
      o.passwords?.[lb] !== undefined ? `  password "${o.passwords[lb]}";` : '',
      o.passive?.includes(lb) === true ? '  passive on;' : '',
    ].filter((l) => l !== '');
    lines.push(`protocol bgp ${lb} {`, `  local ${routerAddr(lb)} as ${ROUTER_AS};`, `  neighbor ${lbAddr(lb)} as ${LB_AS};`, ...common, '  ipv4 { import all; export none; };', '}');
    if (o.ipv6 !== false) {
      lines.push(`protocol bgp ${lb}v6 {`, `  local ${routerAddr(lb, 6)} as ${ROUTER_AS};`, `  neighbor ${lbAddr(lb, 6)} as ${LB_AS};`, ...common, '  ipv6 { import all; export none; };', '}');
    }
  }
  return `${lines.join('\n')}\n`;
}

export interface Bird {
  readonly proc: LabProcess;
  readonly socket: string;
  birdc(...args: string[]): Promise<string>;
}

export async function startBird(lab: Lab, o: BirdOptions = {}): Promise<Bird> {
  const node = o.node ?? 'router';
  const conf = join(lab.logDir, 'bird.conf');
  const socket = join(lab.logDir, 'bird.ctl');
  writeFileSync(conf, birdConfig(o));
  const proc = await lab.spawn(node, ['bird', '-f', '-c', conf, '-s', socket, '-P', join(lab.logDir, 'bird.pid')], { name: 'bird', ready: { file: socket } });
  return {
    proc,
    socket,
    birdc: async (...args) => (await lab.exec(node, ['birdc', '-s', socket, ...args], { timeoutMs: 10_000 })).stdout,
  };
}

/** Names of BIRD's BGP protocols that are Established. */
export async function birdEstablished(b: Bird): Promise<string[]> {
  const out = await b.birdc('show', 'protocols');
  return out
    .split('\n')
    .filter((l) => /\bBGP\b/.test(l) && /Established/.test(l))
    .map((l) => l.split(/\s+/)[0]!)
    .sort();
}
