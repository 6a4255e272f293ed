/**
 * Probes of a node's FIB: the next hops of a destination, waiting until they are what a step
 * expects, counting a protocol's routes, timing a next hop's withdrawal. (`route-monitor.ts`
 * watches the FIB continuously and stamps every change, for the delays of a whole scenario.)
 */
import type { Lab, RouteInfo } from '@netaccel/netlab';
import { waitFor } from '@netaccel/netlab';

/** The gateways of a route, sorted ([] for none). */
export function gateways(r: RouteInfo | undefined): string[] {
  if (r === undefined) return [];
  const g = r.nexthops !== undefined ? r.nexthops.map((n) => n.gateway ?? '') : r.gateway === undefined ? [] : [r.gateway];
  return g.filter((x) => x !== '').sort();
}

/** The next hops of `dst` in a node's main table ([] when there is no route). */
export async function fibNextHops(lab: Lab, node: string, dst: string, family: 4 | 6 = 4): Promise<string[]> {
  const routes = await lab.routes(node, { family });
  return gateways(routes.find((r) => r.dst === dst));
}

/** Waits until `dst` has exactly `want` as next hops in the node's FIB. */
export async function waitNextHops(lab: Lab, node: string, dst: string, want: string[], opts: { family?: 4 | 6; timeoutMs?: number } = {}): Promise<void> {
  const sorted = [...want].sort();
  await waitFor(
    async () => {
      const got = await fibNextHops(lab, node, dst, opts.family ?? 4);
      return JSON.stringify(got) === JSON.stringify(sorted) ? true : undefined;
    },
    { timeoutMs: opts.timeoutMs ?? 15_000, intervalMs: 50, what: `${node} FIB: ${dst} via ${sorted.join(', ') || '(none)'}` },
  );
}

/** Routes of a node's FIB installed by a protocol (`bird`, `bgp`, …). */
export async function countRoutes(lab: Lab, node: string, protocol: string, family: 4 | 6 = 4): Promise<number> {
  const r = await lab.exec(node, ['ip', `-${family}`, 'route', 'show', 'proto', protocol], { timeoutMs: 20_000 });
  return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
}

/** `n` distinct /32s in 100.64.0.0/10 (shared address space: never routed outside the lab). */
export function prefixes(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `100.${64 + (i >> 16)}.${(i >> 8) & 0xff}.${i & 0xff}/32`);
}

/** Polls the router's FIB every 20 ms until `gone` is no longer a next hop of `dst`; answers ms since `t0`. */
export async function timeUntilGone(lab: Lab, dst: string, gone: string, t0: number, timeoutMs = 10_000): Promise<number> {
  let ms = 0;
  await waitFor(
    async () => {
      const hops = await fibNextHops(lab, 'router', dst);
      if (hops.includes(gone)) return undefined;
      ms = performance.now() - t0;
      return true;
    },
    { timeoutMs, intervalMs: 20, what: `${gone} gone from the router's FIB for ${dst}` },
  );
  return ms;
}

/** Two lists hold the same addresses (no duplicates). */
export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return a.length === b.length && set.size === a.length && b.every((x) => set.has(x));
}
