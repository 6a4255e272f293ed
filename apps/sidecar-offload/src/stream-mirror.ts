/**
 * The kernel's calls in flight (`streams`) as the proxy follows them through ebpf-loader
 * (`kernel.via: loader`, kernel-loader.ts): what splice.ts reads synchronously in process
 * (`peekStream` for route deadlines, `adoptStream` at a hand-over) answered from a mirror.
 *
 * Reads go through a BatchedReads (conn-mirror.ts): every read asked in one turn of the event
 * loop, for every spliced connection, is ONE MapLookupBatch. splice.ts asks for them where it
 * needs them: on each tick of its deadline watch (the ids of the calls it watches), once when a
 * connection is handed over (before the relay reads its first frame) and when it closes. A call
 * taken (adopted) is answered never again, its entry deleted from the kernel's map in the
 * background (the kernel no longer sees that connection's frames once it handed it over).
 */
import { decodeStream, encodeStreamKey } from '@netaccel/bpf-programs/sidecar';
import type { SockKey, StreamState } from '@netaccel/bpf-programs/sidecar';
import { BatchedReads } from './conn-mirror.js';
import type { ReadMany } from './conn-mirror.js';

/** Adopted keys kept (never answered again), at most. */
const MAX_ADOPTED = 65_536;

export class StreamMirror {
  readonly reads: BatchedReads;
  /** Keys (hex) of calls taken: a read still under way when one was taken cannot bring it back. */
  private readonly taken = new Set<string>();

  constructor(
    readStreams: ReadMany,
    /** Deletes a taken call's entry from the kernel's map (never rejects: failures are the caller's to log). */
    private readonly remove: (key: Buffer) => Promise<void>,
  ) {
    this.reads = new BatchedReads(readStreams);
  }

  /** Resolves once the calls `ids` of the connection were read in a batch sent after this call. */
  async fresh(clientSide: SockKey, ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await Promise.all(ids.map((id) => this.reads.ask(encodeStreamKey(clientSide, id))));
  }

  /** The call as last read (undefined: not read, finished in the kernel, or taken). */
  peek(clientSide: SockKey, id: number): StreamState | undefined {
    const hex = encodeStreamKey(clientSide, id).toString('hex');
    if (this.taken.has(hex)) return undefined;
    const raw = this.reads.last.get(hex);
    return raw === undefined ? undefined : decodeStream(raw);
  }

  /** Takes the call as last read: answered never again, its kernel entry deleted. */
  take(clientSide: SockKey, id: number): StreamState | undefined {
    const st = this.peek(clientSide, id);
    if (st === undefined) return undefined;
    const key = encodeStreamKey(clientSide, id);
    const hex = key.toString('hex');
    this.taken.add(hex);
    if (this.taken.size > MAX_ADOPTED) this.taken.delete(this.taken.values().next().value!);
    this.reads.drop(key);
    void this.remove(key);
    return st;
  }
}
