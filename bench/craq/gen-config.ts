/**
 * craq-bench-progs' `gen_config` value (struct gen_cfg in craq-bench-progs.bpf.c and craq-gen.c):
 * up to GEN_FRAMES request frames sent in turn, the number of keys WRITE frames cycle over, and the
 * base of the WRITE frames' request ids (0: request id 0).
 */
export const GEN_MAX = 128;
export const GEN_FRAMES = 4;
/** sizeof(struct gen_cfg): frame[4][128], len[4], n, wkeys, req_base. */
export const GEN_CONFIG_BYTES = GEN_FRAMES * GEN_MAX + GEN_FRAMES * 4 + 4 + 4 + 8;

export interface GenConfig {
  readonly frames: readonly Uint8Array[];
  readonly wkeys?: number;
  readonly reqBase?: bigint;
}

export function encodeGenConfig(c: GenConfig): Buffer {
  if (c.frames.length < 1 || c.frames.length > GEN_FRAMES) throw new Error(`gen_config: 1..${GEN_FRAMES} frames, got ${c.frames.length}`);
  const b = Buffer.alloc(GEN_CONFIG_BYTES);
  for (const [i, f] of c.frames.entries()) {
    if (f.length < 42 || f.length > GEN_MAX) throw new Error(`gen_config: frame ${i} is ${f.length} bytes (42..${GEN_MAX})`);
    b.set(f, i * GEN_MAX);
    b.writeUInt32LE(f.length, GEN_FRAMES * GEN_MAX + 4 * i);
  }
  b.writeUInt32LE(c.frames.length, GEN_FRAMES * GEN_MAX + 4 * GEN_FRAMES);
  b.writeUInt32LE(c.wkeys ?? 1, GEN_FRAMES * GEN_MAX + 4 * GEN_FRAMES + 4);
  b.writeBigUInt64LE(c.reqBase ?? 0n, GEN_FRAMES * GEN_MAX + 4 * GEN_FRAMES + 8);
  return b;
}
