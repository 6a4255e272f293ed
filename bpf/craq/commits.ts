/**
 * Reader of the `craq_commits` ring buffer (one struct craq_commit per commit at the tail), on
 * libbpf's ring_buffer API through koffi. The scheduler's node agent drains it to write commits
 * through to etcd; tests drain it to check what the tail committed. Synchronous: `drain()`
 * consumes what is there and returns it; `poll(ms)` waits up to ms for at least one record.
 */
import koffi from 'koffi';
import type { TypeObject } from 'koffi';
import { decodeCommit } from './codec.js';
import type { CraqCommit } from './codec.js';

interface RingBufferApi {
  readonly callback: TypeObject;
  readonly create: (fd: number, cb: bigint, ctx: null, opts: null) => unknown;
  readonly consume: (rb: unknown) => number;
  readonly poll: (rb: unknown, timeoutMs: number) => number;
  readonly free: (rb: unknown) => void;
}

let api: RingBufferApi | undefined;

function bind(): RingBufferApi {
  if (api) return api;
  const lib = koffi.load('libbpf.so.1');
  const proto = koffi.proto('int netaccel_craq_commit_cb(void *ctx, void *data, size_t size)');
  api = {
    callback: koffi.pointer(proto),
    create: lib.func('void *ring_buffer__new(int map_fd, netaccel_craq_commit_cb *sample_cb, void *ctx, void *opts)') as RingBufferApi['create'],
    consume: lib.func('int ring_buffer__consume(void *rb)') as RingBufferApi['consume'],
    poll: lib.func('int ring_buffer__poll(void *rb, int timeout_ms)') as RingBufferApi['poll'],
    free: lib.func('void ring_buffer__free(void *rb)') as RingBufferApi['free'],
  };
  return api;
}

export class CraqCommitReader {
  private readonly api = bind();
  private readonly pending: CraqCommit[] = [];
  private readonly cb: bigint;
  private rb: unknown;

  /** `mapFd`: the craq_commits map's fd (a BpfMap's `fd`). */
  constructor(mapFd: number) {
    this.cb = koffi.register((_ctx: unknown, data: unknown, size: number | bigint) => {
      this.pending.push(decodeCommit(new Uint8Array(koffi.view(data, Number(size))).slice()));
      return 0;
    }, this.api.callback);
    this.rb = this.api.create(mapFd, this.cb, null, null);
    if (this.rb === null) {
      koffi.unregister(this.cb);
      throw new Error(`ring_buffer__new(fd ${mapFd}) failed: not a ring buffer map?`);
    }
  }

  /** Every record in the buffer now. */
  drain(): CraqCommit[] {
    if (this.rb === null) throw new Error('CraqCommitReader is closed');
    const n = this.api.consume(this.rb);
    if (n < 0) throw new Error(`ring_buffer__consume: error ${n}`);
    return this.pending.splice(0);
  }

  /** Waits up to `timeoutMs` for records (blocks the thread), then returns what arrived. */
  poll(timeoutMs: number): CraqCommit[] {
    if (this.rb === null) throw new Error('CraqCommitReader is closed');
    const n = this.api.poll(this.rb, timeoutMs);
    if (n < 0 && n !== -4) throw new Error(`ring_buffer__poll: error ${n}`);
    return this.pending.splice(0);
  }

  close(): void {
    if (this.rb === null) return;
    this.api.free(this.rb);
    this.rb = null;
    koffi.unregister(this.cb);
  }
}
