/**
 * The routing daemons of a scenario, real ones: gobgpd as route reflector and BIRD 2 as the
 * upstream router installing ECMP routes in its kernel. Their configuration files are written
 * into the lab's log folder, beside their logs (`gobgpd.log`, `bird.log`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@netaccel/netlab';
import type { Lab, LabProcess } from '@netaccel/netlab';

/** Starts gobgpd in `node` with `config` (TOML) and waits until it listens on `addr`:179. */
export async function startReflector(lab: Lab, node: string, addr: string, config: string): Promise<LabProcess> {
  const file = join(lab.logDir, 'gobgpd.toml');
  writeFileSync(file, config);
  return lab.spawn(node, ['gobgpd', '-f', file, '-t', 'toml', '-p', '--api-hosts', '127.0.0.1:50051', '--pprof-disable'], { name: 'gobgpd', ready: { tcp: `${addr}:179` } });
}

/** The control socket of the BIRD a scenario started. */
export const birdSocket = (lab: Lab): string => join(lab.logDir, 'bird.ctl');

/** Starts BIRD 2 in `node` with `config` and waits for its control socket. */
export async function startBirdRouter(lab: Lab, node: string, config: string): Promise<LabProcess> {
  const file = join(lab.logDir, 'bird.conf');
  writeFileSync(file, config);
  return lab.spawn(node, ['bird', '-f', '-c', file, '-s', birdSocket(lab), '-P', join(lab.logDir, 'bird.pid')], { name: 'bird', ready: { file: birdSocket(lab) } });
}

/** Waits until BIRD's protocol `protocol` is Established. */
export async function waitBirdEstablished(lab: Lab, node: string, protocol: string, what: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => /Established/.test((await lab.exec(node, ['birdc', '-s', birdSocket(lab), 'show', 'protocols', protocol], { check: false })).stdout), { timeoutMs, intervalMs: 100, what });
}
