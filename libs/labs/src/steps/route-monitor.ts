/**
 * Watches the router's FIB: `ip -o monitor route` in the router's namespace, every change of a
 * VIP's route stamped when it arrives. Gives the lab its convergence delays (kill → next hop
 * gone) and the chart its number of live balancers over time.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface RouteEvent {
  /** ms since the epoch, when the line arrived. */
  readonly at: number;
  readonly vip: string;
  /** The next hops the route has now (none: deleted). */
  readonly nexthops: readonly string[];
}

/** Parses one line of `ip -o monitor route` for `vips`; undefined for other routes. */
export function parseMonitorLine(line: string, vips: readonly string[], at: number): RouteEvent | undefined {
  const deleted = line.startsWith('Deleted ');
  const body = deleted ? line.slice('Deleted '.length) : line;
  const dst = body.split(/\s+/, 1)[0] ?? '';
  const vip = vips.find((v) => dst === v || dst === `${v}/32`);
  if (vip === undefined) return undefined;
  if (/\btable (?!main\b)\S+/.test(body)) return undefined;
  const nexthops = deleted ? [] : [...body.matchAll(/\bvia (?:inet )?(\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]!).sort();
  return { at, vip, nexthops };
}

export class RouteMonitor {
  readonly events: RouteEvent[] = [];
  readonly #child: ChildProcess;
  readonly #vips: readonly string[];
  readonly #current = new Map<string, readonly string[]>();
  readonly #waiters = new Set<() => void>();

  private constructor(child: ChildProcess, vips: readonly string[]) {
    this.#child = child;
    this.#vips = vips;
    createInterface({ input: child.stdout! }).on('line', (line) => this.#line(line));
  }

  /** Starts `ip -n <ns> -o monitor route`; `initial` are the routes as they are now. */
  static start(ns: string, vips: readonly string[], initial: ReadonlyMap<string, readonly string[]>): RouteMonitor {
    const child = spawn('ip', ['-n', ns, '-o', 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const m = new RouteMonitor(child, vips);
    const now = Date.now();
    for (const [vip, nh] of initial) {
      m.#current.set(vip, nh);
      m.events.push({ at: now, vip, nexthops: nh });
    }
    return m;
  }

  #line(line: string): void {
    const e = parseMonitorLine(line, this.#vips, Date.now());
    if (e === undefined) return;
    this.#current.set(e.vip, e.nexthops);
    this.events.push(e);
    for (const w of this.#waiters) w();
  }

  nexthops(vip: string): readonly string[] {
    return this.#current.get(vip) ?? [];
  }

  /**
   * Resolves with the time of the first event at or after `since` that makes `pred` true for
   * `vip` (at once when the current state already does and `since` is in the past of it).
   */
  waitFor(vip: string, pred: (nexthops: readonly string[]) => boolean, since: number, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.events.find((e) => e.vip === vip && e.at >= since && pred(e.nexthops));
        const last = [...this.events].reverse().find((e) => e.vip === vip);
        if (hit !== undefined && last !== undefined && pred(last.nexthops)) {
          cleanup();
          resolve(hit.at);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`the router's route to ${vip} did not change as expected within ${timeoutMs} ms (next hops now: ${this.nexthops(vip).join(', ') || 'none'})`));
      }, timeoutMs);
      const waiter = (): void => void check();
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      this.#waiters.add(waiter);
      check();
    });
  }

  stop(): void {
    this.#child.kill('SIGTERM');
  }
}
