/**
 * WatchRingBuffer: the records of a BPF_MAP_TYPE_RINGBUF map streamed to gRPC watchers.
 *
 * The loader is the map's only consumer (a ring buffer has one consumer position: two readers
 * would each get part of the records). One `RingFeed` per map reads it with libbpf's
 * ring_buffer__new / ring_buffer__consume (koffi, as libs/bpf binds libbpf) and hands every
 * record to each watcher of that moment; it is freed when its last watcher leaves.
 *
 * Reading never blocks the event loop: ring_buffer__poll would block the thread the gRPC server
 * runs on, so the feed consumes on a timer, every `busyMs` while records come and backing off to
 * `idleMs` when the buffer is empty. The delay a record waits is at most `idleMs`.
 */
import koffi from 'koffi';
import type { TypeObject } from 'koffi';
import { BPF_MAP_TYPE } from '@netaccel/bpf';
import { StreamQueue } from '@netaccel/rpc';
import { NA_ERR_LOADER_INVALID_REQUEST } from './errors.js';
import type { MapRef } from './registry.js';

export interface RingRecordOut {
  readonly data: Buffer;
  readonly seq: bigint;
}

interface RingBufferApi {
  readonly callback: TypeObject;
  readonly create: (fd: number, cb: unknown, ctx: null, opts: null) => unknown;
  readonly consume: (rb: unknown) => number;
  readonly free: (rb: unknown) => void;
}

let api: RingBufferApi | undefined;

function bind(): RingBufferApi {
  if (api) return api;
  const lib = koffi.load('libbpf.so.1');
  const proto = koffi.proto('int netaccel_loader_ring_cb(void *ctx, void *data, size_t size)');
  api = {
    callback: koffi.pointer(proto),
    create: lib.func('void *ring_buffer__new(int map_fd, netaccel_loader_ring_cb *sample_cb, void *ctx, void *opts)') as RingBufferApi['create'],
    consume: lib.func('int ring_buffer__consume(void *rb)') as RingBufferApi['consume'],
    free: lib.func('void ring_buffer__free(void *rb)') as RingBufferApi['free'],
  };
  return api;
}

export interface RingTiming {
  /** Consume interval while records arrive (ms). */
  readonly busyMs: number;
  /** Longest consume interval when the buffer stays empty (ms). */
  readonly idleMs: number;
}

const DEFAULT_TIMING: RingTiming = Object.freeze({ busyMs: 1, idleMs: 20 });
/** Records a slow watcher may have waiting before its stream fails (RESOURCE_EXHAUSTED). */
const MAX_BUFFERED = 65_536;

/** One map's reader and its watchers. */
class RingFeed {
  readonly #api = bind();
  readonly #cb: unknown;
  readonly #watchers = new Set<StreamQueue<RingRecordOut>>();
  readonly #timing: RingTiming;
  #rb: unknown;
  #seq = 0n;
  #delay: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(mapFd: number, mapId: string, timing: RingTiming, private readonly onEmpty: () => void) {
    this.#timing = timing;
    this.#delay = timing.busyMs;
    this.#cb = koffi.register((_ctx: unknown, data: unknown, size: number | bigint) => {
      const rec = { data: Buffer.from(koffi.view(data, Number(size))), seq: ++this.#seq };
      for (const w of this.#watchers) w.push(rec);
      return 0;
    }, this.#api.callback);
    this.#rb = this.#api.create(mapFd, this.#cb, null, null);
    if (this.#rb === null) {
      koffi.unregister(this.#cb as never);
      throw NA_ERR_LOADER_INVALID_REQUEST(`mapId: ring_buffer__new failed for map ${mapId}`);
    }
    this.#schedule();
  }

  add(w: StreamQueue<RingRecordOut>): void {
    this.#watchers.add(w);
  }

  remove(w: StreamQueue<RingRecordOut>): void {
    this.#watchers.delete(w);
    if (this.#watchers.size === 0) this.close();
  }

  #schedule(): void {
    this.#timer = setTimeout(() => this.#tick(), this.#delay);
    this.#timer.unref();
  }

  #tick(): void {
    if (this.#rb === null) return;
    const n = this.#api.consume(this.#rb);
    if (n < 0) {
      const err = new Error(`ring_buffer__consume: error ${n}`);
      for (const w of [...this.#watchers]) w.fail(err);
      this.close();
      return;
    }
    this.#delay = n > 0 ? this.#timing.busyMs : Math.min(this.#timing.idleMs, this.#delay * 2);
    this.#schedule();
  }

  close(): void {
    if (this.#rb === null) return;
    clearTimeout(this.#timer);
    this.#api.free(this.#rb);
    this.#rb = null;
    koffi.unregister(this.#cb as never);
    this.onEmpty();
  }
}

/** Every ring buffer being watched through this loader, by map id. */
export class RingBuffers {
  readonly #feeds = new Map<string, RingFeed>();
  readonly #timing: RingTiming;

  constructor(timing: Partial<RingTiming> = {}) {
    this.#timing = { ...DEFAULT_TIMING, ...timing };
  }

  /** A stream of `ref`'s records until `signal` aborts. The map must be a ring buffer. */
  watch(ref: MapRef, signal: AbortSignal): StreamQueue<RingRecordOut> {
    if (ref.record.type !== BPF_MAP_TYPE.ringbuf) {
      throw NA_ERR_LOADER_INVALID_REQUEST(`mapId: map ${ref.id} is not a ring buffer (BPF_MAP_TYPE_RINGBUF), it has type ${ref.record.type}`);
    }
    let feed = this.#feeds.get(ref.id);
    if (!feed) {
      const created: RingFeed = new RingFeed(ref.map.fd, ref.id, this.#timing, () => {
        if (this.#feeds.get(ref.id) === created) this.#feeds.delete(ref.id);
      });
      feed = created;
      this.#feeds.set(ref.id, feed);
    }
    const f = feed;
    const q: StreamQueue<RingRecordOut> = new StreamQueue<RingRecordOut>({ signal, maxBuffered: MAX_BUFFERED, onClose: () => f.remove(q) });
    f.add(q);
    if (signal.aborted) f.remove(q);
    return q;
  }

  /** Maps being read now (for tests and metrics). */
  get watched(): string[] {
    return [...this.#feeds.keys()];
  }

  /** Stops every feed (loader shutdown, or an object being unloaded). */
  close(): void {
    for (const f of [...this.#feeds.values()]) f.close();
  }
}
