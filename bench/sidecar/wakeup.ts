/**
 * The idle CPUs' wake-up latency during the sidecar benchmark. On this VM (cpuidle driver and
 * governor `haltpoll`, `haltpoll.guest_halt_poll_ns=0` on the kernel command line) an idle vCPU
 * halts at once, and waking it is a VM exit and re-entry: on a quiet machine every closed-loop
 * call at concurrency 1 waits for one or two such wake-ups, 64-67 µs p50 against 16 µs for
 * the same direct calls while the CPUs are kept awake (19:31 UTC probe, load 0.2).
 *
 * `holdCpuDmaLatency` writes 0 to /dev/cpu_dma_latency and keeps the file open for the run (the
 * PM QoS request lasts while the file is open: closing it restores the default): the cpuidle
 * governor then only picks states with an exit latency of 0, i.e. the idle loop polls instead of
 * halting. It is what tuned's latency-performance profile and latency benchmarks (cyclictest)
 * do; it applies to every subject of the run alike and costs host CPU while idle, not the
 * guest's (a polling idle CPU yields at once to a runnable task).
 *
 * SIDECAR_BENCH_CPU_DMA_LATENCY: `0` (the default as root) holds it at 0 µs; `off` leaves the
 * machine as it is. Without root the file cannot be opened: off.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

export interface WakeupSetting {
  /** The latency held during the run (µs), or undefined when left alone. */
  readonly heldUs: number | undefined;
  readonly cpuidleDriver: string;
  readonly cpuidleGovernor: string;
  /** Closes the file: the kernel drops the request. */
  release(): void;
}

function sysfs(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return 'none';
  }
}

/** Reads SIDECAR_BENCH_CPU_DMA_LATENCY ('0' or 'off'; default '0' as root, 'off' otherwise). */
export function wantedCpuDmaLatency(env: NodeJS.ProcessEnv = process.env, root = process.getuid?.() === 0): number | undefined {
  const raw = (env.SIDECAR_BENCH_CPU_DMA_LATENCY ?? (root ? '0' : 'off')).trim();
  if (raw === 'off') return undefined;
  if (raw !== '0') throw new Error(`SIDECAR_BENCH_CPU_DMA_LATENCY: expected 0 or off, got ${JSON.stringify(raw)}`);
  if (!root) throw new Error('SIDECAR_BENCH_CPU_DMA_LATENCY=0 needs root (/dev/cpu_dma_latency is root-only)');
  return 0;
}

/** Holds /dev/cpu_dma_latency at `us` until release() (undefined: leaves it alone). */
export function holdCpuDmaLatency(us: number | undefined): WakeupSetting {
  const cpuidleDriver = sysfs('/sys/devices/system/cpu/cpuidle/current_driver');
  const cpuidleGovernor = sysfs('/sys/devices/system/cpu/cpuidle/current_governor');
  if (us === undefined) return { heldUs: undefined, cpuidleDriver, cpuidleGovernor, release: () => {} };
  const fd = openSync('/dev/cpu_dma_latency', 'w');
  try {
    const v = Buffer.alloc(4);
    v.writeInt32LE(us);
    writeSync(fd, v);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  let open = true;
  return {
    heldUs: us,
    cpuidleDriver,
    cpuidleGovernor,
    release: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}
