/**
 * The sidecar bench's wake-up setting: SIDECAR_BENCH_CPU_DMA_LATENCY parsed (0 or off, default 0
 * as root), and as root the PM QoS request really held while the file is open (reading
 * /dev/cpu_dma_latency gives the effective value) and dropped on release.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { closeSync, openSync, readSync } from 'node:fs';
import { holdCpuDmaLatency, wantedCpuDmaLatency } from './wakeup.js';

function effectiveUs(): number {
  const fd = openSync('/dev/cpu_dma_latency', 'r');
  try {
    const b = Buffer.alloc(4);
    assert.equal(readSync(fd, b), 4);
    return b.readInt32LE(0);
  } finally {
    closeSync(fd);
  }
}

test('SIDECAR_BENCH_CPU_DMA_LATENCY: 0 by default as root, off otherwise; anything else refused', () => {
  assert.equal(wantedCpuDmaLatency({}, true), 0);
  assert.equal(wantedCpuDmaLatency({}, false), undefined);
  assert.equal(wantedCpuDmaLatency({ SIDECAR_BENCH_CPU_DMA_LATENCY: 'off' }, true), undefined);
  assert.equal(wantedCpuDmaLatency({ SIDECAR_BENCH_CPU_DMA_LATENCY: ' 0 ' }, true), 0);
  assert.throws(() => wantedCpuDmaLatency({ SIDECAR_BENCH_CPU_DMA_LATENCY: '10' }, true), /expected 0 or off, got "10"/);
  assert.throws(() => wantedCpuDmaLatency({ SIDECAR_BENCH_CPU_DMA_LATENCY: '0' }, false), /needs root/);
});

test('left alone: nothing opened, the cpuidle driver still reported', () => {
  const w = holdCpuDmaLatency(undefined);
  assert.equal(w.heldUs, undefined);
  assert.notEqual(w.cpuidleDriver, '');
  w.release();
});

test('held at 0 while open, the previous value back after release (root)', (t) => {
  if (process.getuid?.() !== 0) {
    assert.throws(() => holdCpuDmaLatency(0), /EACCES|EPERM/);
    return;
  }
  const before = effectiveUs();
  const w = holdCpuDmaLatency(0);
  t.onTestFinished(() => w.release());
  assert.equal(w.heldUs, 0);
  assert.equal(effectiveUs(), 0);
  w.release();
  w.release(); // twice is harmless
  assert.equal(effectiveUs(), before);
});
