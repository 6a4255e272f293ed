/**
 * koffi declarations for libbpf.so.1 (Debian 12: libbpf 1.1, strict mode: int calls return
 * -errno, pointer calls return NULL and set errno) and the few libc calls we need. Nothing is
 * loaded until `native()` is first called, so importing this package never touches the system.
 *
 * Struct layouts follow /usr/include/bpf/{libbpf,bpf}.h of libbpf 1.1; native.test.ts pins their
 * sizes and offsets. The `sz` member of every *_opts struct must hold sizeof(struct): libbpf uses
 * it to tell which fields the caller knows.
 */
import koffi from 'koffi';
import { NA_ERR_BPF_LIBBPF } from './errors.js';
import { deliverLibbpfMessage, wantsLevel } from './log.js';

/** A native pointer as koffi 3 represents it (NULL comes back as null). */
export type Ptr = bigint;

export const BpfObjectOpenOpts = koffi.struct('bpf_object_open_opts', {
  sz: 'size_t',
  object_name: 'const char *',
  relaxed_maps: 'bool',
  pin_root_path: 'const char *',
  _removed_attach_prog_fd: 'uint32_t', // `__u32 :32` in the header
  kconfig: 'const char *',
  btf_custom_path: 'const char *',
  kernel_log_buf: 'void *',
  kernel_log_size: 'size_t',
  kernel_log_level: 'uint32_t',
});

export const BpfTestRunOpts = koffi.struct('bpf_test_run_opts', {
  sz: 'size_t',
  data_in: 'void *',
  data_out: 'void *',
  data_size_in: 'uint32_t',
  data_size_out: 'uint32_t', // in: room in data_out; out: bytes the program left
  ctx_in: 'void *',
  ctx_out: 'void *',
  ctx_size_in: 'uint32_t',
  ctx_size_out: 'uint32_t',
  retval: 'uint32_t',
  repeat: 'int',
  duration: 'uint32_t', // ns, average per repetition
  flags: 'uint32_t',
  cpu: 'uint32_t',
  batch_size: 'uint32_t',
});

export const BpfXdpAttachOpts = koffi.struct('bpf_xdp_attach_opts', {
  sz: 'size_t',
  old_prog_fd: 'int',
});

export const BpfXdpQueryOpts = koffi.struct('bpf_xdp_query_opts', {
  sz: 'size_t',
  prog_id: 'uint32_t',
  drv_prog_id: 'uint32_t',
  hw_prog_id: 'uint32_t',
  skb_prog_id: 'uint32_t',
  attach_mode: 'uint8_t',
});

export const BpfMapBatchOpts = koffi.struct('bpf_map_batch_opts', {
  sz: 'size_t',
  elem_flags: 'uint64_t',
  flags: 'uint64_t',
});

export const BpfTcHook = koffi.struct('bpf_tc_hook', {
  sz: 'size_t',
  ifindex: 'int',
  attach_point: 'int', // enum bpf_tc_attach_point: BPF_TC_INGRESS 1, BPF_TC_EGRESS 2, BPF_TC_CUSTOM 4
  parent: 'uint32_t',
  _pad: 'uint32_t', // `size_t :0` rounds the struct up to 24 bytes
});

export const BpfTcOpts = koffi.struct('bpf_tc_opts', {
  sz: 'size_t',
  prog_fd: 'int',
  flags: 'uint32_t', // BPF_TC_F_REPLACE 1
  prog_id: 'uint32_t', // out of bpf_tc_attach / bpf_tc_query
  handle: 'uint32_t', // in and out: 0 lets the kernel choose
  priority: 'uint32_t', // in and out: 0 lets the kernel choose
  _pad: 'uint32_t',
});

export const BpfProgAttachOpts = koffi.struct('bpf_prog_attach_opts', {
  sz: 'size_t',
  flags: 'uint32_t', // BPF_F_ALLOW_OVERRIDE 1, BPF_F_ALLOW_MULTI 2, BPF_F_REPLACE 4
  replace_prog_fd: 'int',
});

export const BpfLinkCreateOpts = koffi.struct('bpf_link_create_opts', {
  sz: 'size_t',
  flags: 'uint32_t', // for BPF_XDP: XDP_FLAGS_SKB_MODE / XDP_FLAGS_DRV_MODE
  iter_info: 'void *',
  iter_info_len: 'uint32_t',
  target_btf_id: 'uint32_t',
  union_: koffi.array('uint64_t', 4), // perf_event / kprobe_multi / tracing: unused, zero
});

export const BpfLinkUpdateOpts = koffi.struct('bpf_link_update_opts', {
  sz: 'size_t',
  flags: 'uint32_t', // BPF_F_REPLACE 4: only if old_prog_fd is the attached program
  old_prog_fd: 'uint32_t',
});

export const BpfProgQueryOpts = koffi.struct('bpf_prog_query_opts', {
  sz: 'size_t',
  query_flags: 'uint32_t',
  attach_flags: 'uint32_t', // out
  prog_ids: 'void *', // native array of prog_cnt u32, filled by the kernel
  prog_cnt: 'uint32_t', // in: room in prog_ids; out: programs attached
  prog_attach_flags: 'void *',
});

export interface TcHookValue {
  sz: number;
  ifindex: number;
  attach_point: number;
  parent: number;
  _pad: number;
}

export interface TcOptsValue {
  sz: number;
  prog_fd: number;
  flags: number;
  prog_id: number;
  handle: number;
  priority: number;
  _pad: number;
}

export interface ProgAttachOptsValue {
  sz: number;
  flags: number;
  replace_prog_fd: number;
}

export interface LinkCreateOptsValue {
  sz: number;
  flags: number;
  iter_info: Ptr | null;
  iter_info_len: number;
  target_btf_id: number;
  union_: bigint[];
}

export interface LinkUpdateOptsValue {
  sz: number;
  flags: number;
  old_prog_fd: number;
}

export interface ProgQueryOptsValue {
  sz: number;
  query_flags: number;
  attach_flags: number;
  prog_ids: Ptr | null;
  prog_cnt: number;
  prog_attach_flags: Ptr | null;
}

export interface OpenOptsValue {
  sz: number;
  object_name: string | null;
  relaxed_maps: boolean;
  pin_root_path: string | null;
  _removed_attach_prog_fd: number;
  kconfig: string | null;
  btf_custom_path: string | null;
  kernel_log_buf: Ptr | null;
  kernel_log_size: number;
  kernel_log_level: number;
}

export interface TestRunOptsValue {
  sz: number;
  data_in: Ptr | null;
  data_out: Ptr | null;
  data_size_in: number;
  data_size_out: number;
  ctx_in: Ptr | null;
  ctx_out: Ptr | null;
  ctx_size_in: number;
  ctx_size_out: number;
  retval: number;
  repeat: number;
  duration: number;
  flags: number;
  cpu: number;
  batch_size: number;
}

export interface XdpQueryOptsValue {
  sz: number;
  prog_id: number;
  drv_prog_id: number;
  hw_prog_id: number;
  skb_prog_id: number;
  attach_mode: number;
}

export interface BatchOptsValue {
  sz: number;
  elem_flags: number | bigint;
  flags: number | bigint;
}

/** The calls we use, typed. Pointers to libbpf's opaque objects are `Ptr`. */
export interface Native {
  readonly possibleCpus: number;
  errno(): number;
  close(fd: number): number;
  if_nametoindex(name: string): number;
  /** The interface's name, or null when there is no interface of that index. */
  if_indextoname(index: number): string | null;

  bpf_object__open_file(path: string, opts: OpenOptsValue | null): Ptr | null;
  bpf_object__open_mem(buf: Ptr, size: number, opts: OpenOptsValue | null): Ptr | null;
  bpf_object__load(obj: Ptr): number;
  bpf_object__close(obj: Ptr): void;
  bpf_object__name(obj: Ptr): string;
  bpf_object__btf(obj: Ptr): Ptr | null;
  bpf_object__next_program(obj: Ptr, prev: Ptr | null): Ptr | null;
  bpf_object__next_map(obj: Ptr, prev: Ptr | null): Ptr | null;
  bpf_object__find_program_by_name(obj: Ptr, name: string): Ptr | null;
  bpf_object__find_map_by_name(obj: Ptr, name: string): Ptr | null;

  bpf_program__name(prog: Ptr): string;
  bpf_program__section_name(prog: Ptr): string;
  bpf_program__type(prog: Ptr): number;
  bpf_program__fd(prog: Ptr): number;
  bpf_program__set_log_buf(prog: Ptr, buf: Ptr | null, size: number): number;
  bpf_program__set_log_level(prog: Ptr, level: number): number;
  bpf_program__pin(prog: Ptr, path: string): number;
  bpf_program__unpin(prog: Ptr, path: string): number;

  bpf_map__name(map: Ptr): string;
  bpf_map__fd(map: Ptr): number;
  bpf_map__type(map: Ptr): number;
  bpf_map__key_size(map: Ptr): number;
  bpf_map__value_size(map: Ptr): number;
  bpf_map__max_entries(map: Ptr): number;
  bpf_map__map_flags(map: Ptr): number;
  bpf_map__is_internal(map: Ptr): boolean;
  bpf_map__initial_value(map: Ptr, size: [number]): Ptr | null;
  bpf_map__set_initial_value(map: Ptr, data: Uint8Array, size: number): number;
  bpf_map__set_max_entries(map: Ptr, maxEntries: number): number;
  bpf_map__pin(map: Ptr, path: string): number;
  bpf_map__unpin(map: Ptr, path: string): number;

  bpf_map_create(type: number, name: string | null, keySize: number, valueSize: number, maxEntries: number, opts: Uint8Array | null): number;
  bpf_map_lookup_elem(fd: number, key: Uint8Array, value: Uint8Array): number;
  bpf_map_update_elem(fd: number, key: Uint8Array, value: Uint8Array, flags: number): number;
  bpf_map_delete_elem(fd: number, key: Uint8Array): number;
  bpf_map_get_next_key(fd: number, key: Uint8Array | null, next: Uint8Array): number;
  bpf_map_lookup_batch(
    fd: number, inBatch: Uint8Array | null, outBatch: Uint8Array, keys: Uint8Array, values: Uint8Array,
    count: [number], opts: BatchOptsValue,
  ): number;
  bpf_map_update_batch(fd: number, keys: Uint8Array, values: Uint8Array, count: [number], opts: BatchOptsValue): number;

  bpf_obj_pin(fd: number, path: string): number;
  bpf_obj_get(path: string): number;
  bpf_obj_get_info_by_fd(fd: number, info: Uint8Array, len: [number]): number;
  bpf_enable_stats(type: number): number;
  bpf_prog_test_run_opts(fd: number, opts: TestRunOptsValue): number;
  /** The same call on a struct bpf_test_run_opts laid out in `opts` (test-run.ts: no marshalling per run). */
  bpf_prog_test_run_opts_raw(fd: number, opts: Uint8Array): number;

  bpf_xdp_attach(ifindex: number, progFd: number, flags: number, opts: { sz: number; old_prog_fd: number } | null): number;
  bpf_xdp_detach(ifindex: number, flags: number, opts: { sz: number; old_prog_fd: number } | null): number;
  bpf_xdp_query(ifindex: number, flags: number, opts: XdpQueryOptsValue): number;

  bpf_xdp_query_id(ifindex: number, flags: number, progId: [number]): number;
  bpf_prog_get_fd_by_id(id: number): number;
  bpf_map_get_fd_by_id(id: number): number;
  bpf_link_get_fd_by_id(id: number): number;

  bpf_tc_hook_create(hook: TcHookValue): number;
  bpf_tc_hook_destroy(hook: TcHookValue): number;
  bpf_tc_attach(hook: TcHookValue, opts: TcOptsValue): number;
  bpf_tc_detach(hook: TcHookValue, opts: TcOptsValue): number;
  bpf_tc_query(hook: TcHookValue, opts: TcOptsValue): number;

  bpf_prog_attach_opts(progFd: number, targetFd: number, type: number, opts: ProgAttachOptsValue): number;
  bpf_prog_detach2(progFd: number, targetFd: number, type: number): number;
  bpf_prog_query_opts(targetFd: number, type: number, opts: ProgQueryOptsValue): number;
  bpf_link_create(progFd: number, targetFd: number, type: number, opts: LinkCreateOptsValue): number;
  bpf_link_update(linkFd: number, newProgFd: number, opts: LinkUpdateOptsValue): number;
  bpf_link_detach(linkFd: number): number;
  libbpf_bpf_prog_type_str(type: number): string | null;
  libbpf_bpf_map_type_str(type: number): string | null;

  btf__raw_data(btf: Ptr, size: [number]): Ptr | null;

  /** Native memory (stable address, for pointers libbpf or the kernel keep or write through). */
  alloc(size: number): Ptr;
  free(ptr: Ptr): void;
  /** A live view of native memory (no copy): write into it before a call, read after. */
  view(ptr: Ptr, size: number): Uint8Array;
  /** libc mmap(NULL, length, prot, flags, fd, offset): the address, or null for MAP_FAILED (see errno()). */
  mmap(length: number, prot: number, flags: number, fd: number, offset: number): Ptr | null;
  /** libc munmap. */
  munmap(ptr: Ptr, length: number): number;
  /** The page size (sysconf(_SC_PAGESIZE)). */
  readonly pageSize: number;
}

let instance: Native | undefined;
let loadError: unknown;

const SIGNATURES: readonly string[] = [
  'void *bpf_object__open_file(const char *path, const bpf_object_open_opts *opts)',
  'void *bpf_object__open_mem(const void *buf, size_t size, const bpf_object_open_opts *opts)',
  'int bpf_object__load(void *obj)',
  'void bpf_object__close(void *obj)',
  'const char *bpf_object__name(void *obj)',
  'void *bpf_object__btf(void *obj)',
  'void *bpf_object__next_program(void *obj, void *prev)',
  'void *bpf_object__next_map(void *obj, void *prev)',
  'void *bpf_object__find_program_by_name(void *obj, const char *name)',
  'void *bpf_object__find_map_by_name(void *obj, const char *name)',
  'const char *bpf_program__name(void *prog)',
  'const char *bpf_program__section_name(void *prog)',
  'int bpf_program__type(void *prog)',
  'int bpf_program__fd(void *prog)',
  'int bpf_program__set_log_buf(void *prog, void *buf, size_t size)',
  'int bpf_program__set_log_level(void *prog, uint32_t level)',
  'int bpf_program__pin(void *prog, const char *path)',
  'int bpf_program__unpin(void *prog, const char *path)',
  'const char *bpf_map__name(void *map)',
  'int bpf_map__fd(void *map)',
  'int bpf_map__type(void *map)',
  'uint32_t bpf_map__key_size(void *map)',
  'uint32_t bpf_map__value_size(void *map)',
  'uint32_t bpf_map__max_entries(void *map)',
  'uint32_t bpf_map__map_flags(void *map)',
  'bool bpf_map__is_internal(void *map)',
  'void *bpf_map__initial_value(void *map, _Out_ size_t *size)',
  'int bpf_map__set_initial_value(void *map, const void *data, size_t size)',
  'int bpf_map__set_max_entries(void *map, uint32_t max_entries)',
  'int bpf_map__pin(void *map, const char *path)',
  'int bpf_map__unpin(void *map, const char *path)',
  'int bpf_map_create(int type, const char *name, uint32_t key_size, uint32_t value_size, uint32_t max_entries, void *opts)',
  'int bpf_map_lookup_elem(int fd, const void *key, void *value)',
  'int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)',
  'int bpf_map_delete_elem(int fd, const void *key)',
  'int bpf_map_get_next_key(int fd, const void *key, void *next)',
  'int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, _Inout_ uint32_t *count, const bpf_map_batch_opts *opts)',
  'int bpf_map_update_batch(int fd, const void *keys, const void *values, _Inout_ uint32_t *count, const bpf_map_batch_opts *opts)',
  'int bpf_obj_pin(int fd, const char *path)',
  'int bpf_obj_get(const char *path)',
  'int bpf_obj_get_info_by_fd(int fd, void *info, _Inout_ uint32_t *len)',
  'int bpf_enable_stats(int type)',
  'int bpf_prog_test_run_opts(int fd, _Inout_ bpf_test_run_opts *opts)',
  'int bpf_xdp_attach(int ifindex, int prog_fd, uint32_t flags, const bpf_xdp_attach_opts *opts)',
  'int bpf_xdp_detach(int ifindex, uint32_t flags, const bpf_xdp_attach_opts *opts)',
  'int bpf_xdp_query(int ifindex, int flags, _Inout_ bpf_xdp_query_opts *opts)',
  'const void *btf__raw_data(void *btf, _Out_ uint32_t *size)',
  'int bpf_xdp_query_id(int ifindex, int flags, _Out_ uint32_t *prog_id)',
  'int bpf_prog_get_fd_by_id(uint32_t id)',
  'int bpf_map_get_fd_by_id(uint32_t id)',
  'int bpf_link_get_fd_by_id(uint32_t id)',
  'int bpf_tc_hook_create(bpf_tc_hook *hook)',
  'int bpf_tc_hook_destroy(bpf_tc_hook *hook)',
  'int bpf_tc_attach(const bpf_tc_hook *hook, _Inout_ bpf_tc_opts *opts)',
  'int bpf_tc_detach(const bpf_tc_hook *hook, const bpf_tc_opts *opts)',
  'int bpf_tc_query(const bpf_tc_hook *hook, _Inout_ bpf_tc_opts *opts)',
  'int bpf_prog_attach_opts(int prog_fd, int target_fd, int type, const bpf_prog_attach_opts *opts)',
  'int bpf_prog_detach2(int prog_fd, int target_fd, int type)',
  'int bpf_prog_query_opts(int target_fd, int type, _Inout_ bpf_prog_query_opts *opts)',
  'int bpf_link_create(int prog_fd, int target_fd, int type, const bpf_link_create_opts *opts)',
  'int bpf_link_update(int link_fd, int new_prog_fd, const bpf_link_update_opts *opts)',
  'int bpf_link_detach(int link_fd)',
  'const char *libbpf_bpf_prog_type_str(int type)',
  'const char *libbpf_bpf_map_type_str(int type)',
];

/** libbpf's print callback type: `int (*)(enum libbpf_print_level, const char *, va_list)`. */
const PrintFn = koffi.proto('int netaccel_libbpf_print_fn(int level, const char *fmt, void *args)');

function bind(): Native {
  if (process.platform !== 'linux') throw new Error(`BPF needs Linux, this is ${process.platform}`);
  const libbpf = koffi.load('libbpf.so.1');
  const libc = koffi.load('libc.so.6');
  const fns: Record<string, unknown> = {};
  for (const sig of SIGNATURES) {
    const fn = libbpf.func(sig);
    fns[fn.info.name] = fn;
  }
  fns.bpf_prog_test_run_opts_raw = libbpf.func('bpf_prog_test_run_opts', 'int', ['int', 'void *']);
  const closeFd = libc.func('int close(int fd)');
  const ifNameToIndex = libc.func('unsigned int if_nametoindex(const char *name)');
  const ifIndexToName = libc.func('void *if_indextoname(unsigned int index, _Out_ uint8_t *name)');
  const vasprintf = libc.func('int vasprintf(void *strp, const char *fmt, void *ap)');
  const cfree = libc.func('void free(void *ptr)');
  const numCpus = libbpf.func('int libbpf_num_possible_cpus(void)');
  const setPrint = libbpf.func('void *libbpf_set_print(netaccel_libbpf_print_fn *fn)');
  const cmmap = libc.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)');
  const cmunmap = libc.func('int munmap(void *addr, size_t length)');
  const sysconf = libc.func('long sysconf(int name)');

  // va_list reaches the callback as a pointer on x86-64 (an array type) and on arm64 (a 32-byte
  // struct passed by reference), so it can be forwarded to vasprintf as is. vasprintf rather
  // than vsnprintf: a va_list may be consumed once only, and vasprintf sizes its own buffer.
  const canFormat = process.arch === 'x64' || process.arch === 'arm64';
  const strp = koffi.alloc('void *', 1) as Ptr;
  const printCallback = koffi.register((level: number, fmt: string | null, args: Ptr | null): number => {
    try {
      if (!wantsLevel(level)) return 0;
      let text = fmt ?? '';
      if (canFormat && fmt != null && args != null) {
        const n = vasprintf(strp, fmt, args) as number;
        if (n >= 0) {
          const p = koffi.decode(strp, 'void *') as Ptr;
          text = koffi.decode(p, 'char', n) as string;
          cfree(p);
        }
      }
      deliverLibbpfMessage(level, text);
    } catch {
      // never unwind through libbpf
    }
    return 0;
  }, koffi.pointer(PrintFn));
  setPrint(printCallback);

  const possibleCpus = numCpus() as number;
  if (possibleCpus < 1) throw new Error(`libbpf_num_possible_cpus() returned ${possibleCpus}`);

  return Object.freeze({
    ...(fns as unknown as Omit<Native, 'possibleCpus' | 'errno' | 'close' | 'if_nametoindex' | 'if_indextoname' | 'alloc' | 'free' | 'view' | 'mmap' | 'munmap' | 'pageSize'>),
    possibleCpus,
    errno: () => koffi.errno(),
    close: (fd: number) => closeFd(fd) as number,
    if_nametoindex: (name: string) => ifNameToIndex(name) as number,
    if_indextoname: (index: number) => {
      const buf = Buffer.alloc(16); // IF_NAMESIZE
      if (ifIndexToName(index, buf) === null) return null;
      const nul = buf.indexOf(0);
      return buf.subarray(0, nul < 0 ? 16 : nul).toString('utf8');
    },
    alloc: (size: number) => koffi.alloc('uint8_t', Math.max(1, size)) as Ptr,
    free: (ptr: Ptr) => koffi.free(ptr),
    view: (ptr: Ptr, size: number) => new Uint8Array(koffi.view(ptr, size)),
    mmap: (length: number, prot: number, flags: number, fd: number, offset: number) => {
      const p = cmmap(null, length, prot, flags, fd, offset) as Ptr | null;
      // MAP_FAILED is (void *)-1, whichever way the pointer comes back
      return p === null || p === -1n || p === 0xffffffffffffffffn ? null : p;
    },
    munmap: (ptr: Ptr, length: number) => cmunmap(ptr, length) as number,
    pageSize: Number(sysconf(30 /* _SC_PAGESIZE on Linux */)),
  });
}

/** The bound library; throws NA_ERR_BPF_LIBBPF (every time) when it cannot be loaded. */
export function native(): Native {
  if (instance) return instance;
  if (loadError === undefined) {
    try {
      instance = bind();
      return instance;
    } catch (err) {
      loadError = err;
    }
  }
  throw NA_ERR_BPF_LIBBPF.with({ cause: loadError }, loadError instanceof Error ? loadError.message : String(loadError));
}
