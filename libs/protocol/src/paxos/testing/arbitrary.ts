/** fast-check arbitraries of every Paxos/VR message, for the codec's property tests. */
import fc from 'fast-check';
import { PAXOS_MAX_CHUNK, PAXOS_MAX_ENTRY, PAXOS_MAX_MSG, PAXOS_MAX_OP, PAXOS_REGISTER_ID, PaxosFlag, PaxosType, ReplyStatus } from '../constants.js';
import { encodeEntry, entrySize, stateBodySize } from '../entry.js';
import type { ClientRequest, PaxosMessage, StateEntry } from '../model.js';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const replica = fc.integer({ min: 0, max: 30 });
const bytes = (max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));

/** A registration carries no operation and a client id below 2^63 (a request id drawn as 2^63 gets both). */
const noOpIfRegister = <T extends { clientId: bigint; requestId: bigint; payload: Buffer }>(r: T): T =>
  r.requestId === PAXOS_REGISTER_ID ? { ...r, clientId: r.clientId & (PAXOS_REGISTER_ID - 1n), payload: Buffer.alloc(0) } : r;

export const clientRequest: fc.Arbitrary<ClientRequest> = fc.oneof(
  { arbitrary: fc.record({ clientId: u64, requestId: u64, payload: fc.oneof(bytes(40), bytes(PAXOS_MAX_OP)) }).map(noOpIfRegister), weight: 4 },
  { arbitrary: fc.record({ clientId: u64, requestId: fc.constant(PAXOS_REGISTER_ID), payload: fc.constant(Buffer.alloc(0)) }).map(noOpIfRegister), weight: 1 },
);

/** 1..8 requests that fit in one entry. */
export const entryRequests: fc.Arbitrary<ClientRequest[]> = fc
  .array(clientRequest, { minLength: 1, maxLength: 8 })
  .map((rs) => {
    const out: ClientRequest[] = [];
    for (const r of rs) if (entrySize([...out, r]) <= PAXOS_MAX_ENTRY) out.push(r);
    return out;
  })
  .filter((rs) => rs.length > 0);

const opAndCommit = fc.tuple(u64, u64).map(([a, b]) => (a < b ? { op: b, commit: a } : { op: a, commit: b }));

const stateEntries: fc.Arbitrary<{ op: bigint; commit: bigint; entries: StateEntry[] }> = fc
  .tuple(fc.bigInt({ min: 1n, max: 1n << 40n }), fc.array(fc.tuple(entryRequests, u32), { maxLength: 4 }), fc.bigInt({ min: 0n, max: 1000n }))
  .map(([first, items, extra]) => {
    const entries: StateEntry[] = [];
    for (const [requests, view] of items) {
      const e = { op: first + BigInt(entries.length), view, body: encodeEntry(requests) };
      if (stateBodySize([...entries, e]) + 32 <= PAXOS_MAX_MSG) entries.push(e);
    }
    const op = (entries[entries.length - 1]?.op ?? first) + extra;
    return { op, commit: op / 2n, entries };
  });

export const paxosMessage: fc.Arbitrary<PaxosMessage> = fc.oneof(
  fc.record({ type: fc.constant(PaxosType.Request), view: u32, clientId: u64, requestId: u64, payload: fc.oneof(bytes(64), bytes(PAXOS_MAX_OP)) }).map(noOpIfRegister),
  fc.record({ type: fc.constant(PaxosType.Request), view: u32, clientId: u64, requestId: fc.constant(PAXOS_REGISTER_ID), payload: fc.constant(Buffer.alloc(0)) }).map(noOpIfRegister),
  fc.oneof(
    fc.record({ type: fc.constant(PaxosType.Reply), sender: replica, view: u32, clientId: u64, requestId: u64, status: fc.constantFrom(ReplyStatus.Ok, ReplyStatus.Error, ReplyStatus.SessionExpired), result: bytes(200) }),
    fc.record({ type: fc.constant(PaxosType.Reply), sender: replica, view: u32, clientId: u64, requestId: u64, status: fc.constant(ReplyStatus.NotLeader), result: replica.map((i) => Buffer.of(i)) }),
  ),
  fc.record({ type: fc.constant(PaxosType.Prepare), sender: replica, view: u32, requests: entryRequests, oc: opAndCommit.filter((x) => x.op > x.commit) }).map(({ oc, ...m }) => ({ ...m, ...oc })),
  fc.record({ type: fc.constant(PaxosType.PrepareOk), sender: replica, view: u32, op: u64.filter((o) => o > 0n), flags: fc.constantFrom(0, PaxosFlag.Fast, PaxosFlag.Quorum, PaxosFlag.Fast | PaxosFlag.Quorum) }),
  fc.record({ type: fc.constant(PaxosType.Commit), sender: replica, view: u32, commit: u64 }),
  fc.record({ type: fc.constant(PaxosType.StartViewChange), sender: replica, view: u32.filter((v) => v > 0) }),
  fc
    .record({ type: fc.constant(PaxosType.DoViewChange), sender: replica, view: u32.filter((v) => v > 0), oc: opAndCommit, lnv: fc.double({ min: 0, max: 1, noNaN: true }) })
    .map(({ oc, lnv, ...m }) => ({ ...m, ...oc, lastNormalView: Math.floor(lnv * (m.view - 1)) })),
  fc.record({ type: fc.constant(PaxosType.StartView), sender: replica, view: u32.filter((v) => v > 0), oc: opAndCommit }).map(({ oc, ...m }) => ({ ...m, ...oc })),
  fc.record({ type: fc.constant(PaxosType.GetState), sender: replica, view: u32, op: u64 }),
  fc.record({ type: fc.constant(PaxosType.NewState), sender: replica, view: u32, st: stateEntries }).map(({ st, ...m }) => ({ ...m, ...st })),
  fc.record({ type: fc.constant(PaxosType.Recovery), sender: replica, nonce: u64 }),
  fc.record({ type: fc.constant(PaxosType.RecoveryResponse), sender: replica, view: u32, oc: opAndCommit, nonce: u64 }).map(({ oc, ...m }) => ({ ...m, ...oc })),
  fc
    .record({ type: fc.constant(PaxosType.Checkpoint), sender: replica, view: u32, op: u64.filter((o) => o > 0n), checksum: u32, data: fc.uint8Array({ minLength: 1, maxLength: PAXOS_MAX_CHUNK }), offset: fc.integer({ min: 0, max: 1 << 20 }), extra: fc.integer({ min: 0, max: 1 << 20 }) })
    .map(({ data, extra, ...m }) => ({ ...m, data: Buffer.from(data), total: m.offset + data.length + extra })),
  fc.record({ type: fc.constant(PaxosType.GetCheckpoint), sender: replica, view: u32, op: u64.filter((o) => o > 0n), offset: u32 }),
) as fc.Arbitrary<PaxosMessage>;
