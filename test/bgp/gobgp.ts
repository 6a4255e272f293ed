/**
 * GoBGP as a route reflector (the thesis' setup: announcers → gobgpd → router): announcers are
 * dynamic neighbors (peer group + dynamic-neighbors prefixes) and route-reflector clients with
 * add-path receive; the router is a static iBGP neighbor that gets every path (add-path send).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, LabProcess } from '@netaccel/netlab';
import { birdReflectorClientConfig, gobgpReflectorConfig, waitFor } from '@netaccel/netlab';
import { LBS, RR_AS, lbIndex } from '@netaccel/labs';

export const RR_ADDR = '10.1.9.2';
export const RR_ROUTER_ADDR = '10.1.9.1';

export function gobgpConfig(): string {
  return gobgpReflectorConfig({
    as: RR_AS,
    routerId: RR_ADDR,
    localAddress: RR_ADDR,
    router: { address: RR_ROUTER_ADDR },
    clientPrefixes: LBS.map((lb) => `10.1.${lbIndex(lb)}.0/24`),
  });
}

export async function startGobgp(lab: Lab): Promise<{ proc: LabProcess; neighbors(): Promise<{ address: string; state: string }[]> }> {
  const conf = join(lab.logDir, 'gobgpd.toml');
  writeFileSync(conf, gobgpConfig());
  const proc = await lab.spawn('rr', ['gobgpd', '-f', conf, '-t', 'toml', '-p', '--api-hosts', '127.0.0.1:50051', '--pprof-disable'], {
    name: 'gobgpd',
    ready: { tcp: `${RR_ADDR}:179` },
  });
  const neighbors = async (): Promise<{ address: string; state: string }[]> => {
    const out = await lab.exec('rr', ['gobgp', '-u', '127.0.0.1', '-p', '50051', 'neighbor', '-j'], { timeoutMs: 10_000, check: false });
    if (out.code !== 0) return [];
    const list = JSON.parse(out.stdout) as { state?: { neighbor_address?: string; session_state?: number | string }; conf?: { neighbor_address?: string } }[];
    return list.map((n) => ({ address: n.state?.neighbor_address ?? n.conf?.neighbor_address ?? '', state: String(n.state?.session_state ?? '') }));
  };
  // gobgpd listens before it has read its configuration; peer groups and dynamic neighbors are
  // added before the static neighbor, so once that one is there, a dynamic neighbor gets its group
  await waitFor(async () => ((await neighbors()).some((n) => n.address === RR_ROUTER_ADDR) ? true : undefined), { timeoutMs: 15_000, intervalMs: 50, what: 'gobgpd configured' });
  return { proc, neighbors };
}

/** BIRD on the router as the reflector's iBGP client, with add-path receive and ECMP in the kernel. */
export function birdRrConfig(): string {
  return birdReflectorClientConfig({ as: RR_AS, local: RR_ROUTER_ADDR, reflector: RR_ADDR });
}
