import { test } from 'vitest';
import assert from 'node:assert/strict';
import koffi from 'koffi';
import {
  BpfLinkCreateOpts, BpfLinkUpdateOpts, BpfMapBatchOpts, BpfObjectOpenOpts, BpfProgAttachOpts, BpfProgQueryOpts, BpfTcHook, BpfTcOpts,
  BpfTestRunOpts, BpfXdpAttachOpts, BpfXdpQueryOpts,
} from './native.js';

// Sizes and offsets printed by a C program (sizeof/offsetof) compiled against libbpf 1.1's
// /usr/include/bpf/{libbpf,bpf}.h. The koffi declarations must produce the same layout, or
// libbpf reads garbage (the `sz` field tells libbpf how much of the struct we know).
const LAYOUTS = [
  [BpfTestRunOpts, 80, { data_in: 8, data_out: 16, data_size_in: 24, data_size_out: 28, ctx_in: 32, ctx_out: 40, ctx_size_in: 48, ctx_size_out: 52, retval: 56, repeat: 60, duration: 64, flags: 68, cpu: 72, batch_size: 76 }],
  [BpfObjectOpenOpts, 80, { object_name: 8, relaxed_maps: 16, pin_root_path: 24, kconfig: 40, btf_custom_path: 48, kernel_log_buf: 56, kernel_log_size: 64, kernel_log_level: 72 }],
  [BpfXdpAttachOpts, 16, { old_prog_fd: 8 }],
  [BpfXdpQueryOpts, 32, { prog_id: 8, drv_prog_id: 12, hw_prog_id: 16, skb_prog_id: 20, attach_mode: 24 }],
  [BpfMapBatchOpts, 24, { elem_flags: 8, flags: 16 }],
  [BpfTcHook, 24, { ifindex: 8, attach_point: 12, parent: 16 }],
  [BpfTcOpts, 32, { prog_fd: 8, flags: 12, prog_id: 16, handle: 20, priority: 24 }],
  [BpfProgAttachOpts, 16, { flags: 8, replace_prog_fd: 12 }],
  [BpfLinkCreateOpts, 64, { flags: 8, iter_info: 16, iter_info_len: 24, target_btf_id: 28, union_: 32 }],
  [BpfLinkUpdateOpts, 16, { flags: 8, old_prog_fd: 12 }],
  [BpfProgQueryOpts, 40, { query_flags: 8, attach_flags: 12, prog_ids: 16, prog_cnt: 24, prog_attach_flags: 32 }],
] as const;

for (const [type, size, offsets] of LAYOUTS) {
  test(`struct ${type.name} has libbpf 1.1's layout`, () => {
    assert.equal(koffi.sizeof(type), size);
    for (const [member, offset] of Object.entries(offsets)) assert.equal(koffi.offsetof(type, member), offset, member);
  });
}
