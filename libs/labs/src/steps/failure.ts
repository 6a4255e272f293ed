/**
 * Failures a scenario injects: a node that falls silent as if it had died with its kernel, a
 * process killed the way a node failure kills it, a node's link taken down and brought back.
 */
import type { Lab, LabProcess } from '@netaccel/netlab';

/**
 * Makes a node fall silent as if it had died with its kernel: nftables drops everything it
 * would send or receive, so no FIN, RST, KEEPALIVE or BFD packet reaches its neighbours.
 */
export async function silence(lab: Lab, node: string): Promise<void> {
  const rules = ['table inet netaccel_silence {', ' chain in { type filter hook input priority -300; policy drop; }', ' chain out { type filter hook output priority -300; policy drop; }', '}', ''].join('\n');
  await lab.exec(node, ['nft', '-f', '-'], { input: rules });
}

/** Kills a process of a node the way a node failure does: silence, then kill -9. Answers the time of death (performance.now()). */
export async function nodeFailure(lab: Lab, node: string, proc: LabProcess): Promise<number> {
  await silence(lab, node);
  const t0 = performance.now();
  proc.kill('SIGKILL');
  return t0;
}

/** kill -9 each process and waits for it to exit. */
export async function killAll(procs: readonly (LabProcess | undefined)[], timeoutMs = 5000): Promise<void> {
  for (const p of procs) p?.kill('SIGKILL');
  await Promise.all(procs.map((p) => p?.wait({ timeoutMs })));
}

/** Takes a node's interface down (the node is gone for its neighbours) or brings it back. */
export async function setLink(lab: Lab, node: string, state: 'up' | 'down', ifname = 'eth0'): Promise<void> {
  await lab.exec(node, ['ip', 'link', 'set', 'dev', ifname, state]);
}
