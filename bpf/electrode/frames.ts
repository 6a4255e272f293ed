/**
 * Frames for the tests: a test group of three replicas (leader 0, followers 1 and 2) on one
 * segment in IPv4 and IPv6, Paxos payloads from @netaccel/protocol's codec, hand-built headers
 * for what the codec refuses to write (bad magic, wrong body_len, unknown type), and the frames
 * around them (Ethernet, IPv4/IPv6, UDP with a correct checksum).
 */
import { buildPacket, paxos, udp } from '@netaccel/protocol';
import type { ReplicaConfig } from './codec.js';
import { PAXOS_WIRE } from './constants.js';

export const TEST_PORT = 7470;
/** The client-side source port the leader's socket uses in the fixtures. */
export const TEST_SPORT = 7470;

export interface TestReplica extends ReplicaConfig {
  readonly index: number;
}

/** `count` replicas (default 3) per family; `ifindex` for all (a real one where a clone must leave). */
export function testGroup(family: 4 | 6, ifindex = 0, count = 3): TestReplica[] {
  return Array.from({ length: count }, (_, i) => i).map((i) => ({
    index: i,
    address: family === 4 ? `10.77.0.${i + 1}` : `fd77::${i + 1}`,
    port: TEST_PORT,
    mac: `02:77:00:00:00:0${i + 1}`,
    ifindex,
  }));
}

/** A frame carrying `payload` from replica `from` to replica `to` (UDP checksum computed unless given). */
export function paxosFrame(from: ReplicaConfig, to: ReplicaConfig, payload: Uint8Array, opts: { checksum?: number; sport?: number } = {}): Buffer {
  const p = udp({
    eth: { src: from.mac, dst: to.mac },
    src: from.address,
    dst: to.address,
    sport: opts.sport ?? from.port,
    dport: to.port,
    payload,
    ...(opts.checksum !== undefined ? { checksum: opts.checksum } : {}),
  });
  return Buffer.from(buildPacket(p));
}

/** A Prepare from the codec: `requests` client operations of `opBytes` bytes each. */
export function prepare(f: { sender: number; view: number; op: bigint; commit: bigint; requests?: number; opBytes?: number }): Buffer {
  const requests = Array.from({ length: f.requests ?? 1 }, (_, i) => ({
    clientId: 0x1000n + BigInt(i),
    requestId: f.op * 10n + BigInt(i),
    payload: Buffer.alloc(f.opBytes ?? 16, (Number(f.op) + i) & 0xff),
  }));
  return paxos.encodePaxos({ type: paxos.PaxosType.Prepare, sender: f.sender, view: f.view, op: f.op, commit: f.commit, requests });
}

/** A PrepareOK from the codec. */
export function prepareOk(f: { sender: number; view: number; op: bigint; flags?: number }): Buffer {
  return paxos.encodePaxos({ type: paxos.PaxosType.PrepareOk, sender: f.sender, view: f.view, op: f.op, flags: f.flags ?? 0 });
}

/** A COMMIT (heartbeat) from the codec. */
export function commit(f: { sender: number; view: number; commit: bigint }): Buffer {
  return paxos.encodePaxos({ type: paxos.PaxosType.Commit, sender: f.sender, view: f.view, commit: f.commit });
}

/**
 * A CHECKPOINT chunk from the codec (state transfer below the sender's log, libs/paxos
 * recovery.ts): `size` bytes of a checkpoint of `total` at `offset`; the default fills the
 * largest datagram (PAXOS_MAX_MSG).
 */
export function checkpointChunk(f: { sender: number; view: number; op: bigint; offset?: number; size?: number; total?: number }): Buffer {
  const size = f.size ?? paxos.PAXOS_MAX_CHUNK;
  const offset = f.offset ?? 0;
  return paxos.encodePaxos({ type: paxos.PaxosType.Checkpoint, sender: f.sender, view: f.view, op: f.op, total: f.total ?? offset + size, checksum: 0x1234abcd, offset, data: Buffer.alloc(size, 0x5a) });
}

/** A GET_CHECKPOINT from the codec: the rest of op's checkpoint from `offset`. */
export function getCheckpoint(f: { sender: number; view: number; op: bigint; offset: number }): Buffer {
  return paxos.encodePaxos({ type: paxos.PaxosType.GetCheckpoint, sender: f.sender, view: f.view, op: f.op, offset: f.offset });
}

/** A header written by hand (any field, including ones the codec refuses), then `body`. */
export function rawMessage(f: {
  magic?: number;
  version?: number;
  type: number;
  sender: number;
  flags?: number;
  view: number;
  bodyLen?: number;
  op: bigint;
  commit?: bigint;
  body?: Uint8Array;
}): Buffer {
  const body = Buffer.from(f.body ?? new Uint8Array(0));
  const h = Buffer.alloc(PAXOS_WIRE.headerLen);
  h.writeUInt32BE(f.magic ?? PAXOS_WIRE.magic, 0);
  h.writeUInt8(f.version ?? PAXOS_WIRE.version, 4);
  h.writeUInt8(f.type, 5);
  h.writeUInt8(f.sender, 6);
  h.writeUInt8(f.flags ?? 0, 7);
  h.writeUInt32BE(f.view, 8);
  h.writeUInt32BE(f.bodyLen ?? body.length, 12);
  h.writeBigUInt64BE(f.op, 16);
  h.writeBigUInt64BE(f.commit ?? 0n, 24);
  return Buffer.concat([h, body]);
}

/** The UDP payload of an untagged IPv4/IPv6 frame. */
export function udpPayload(frame: Uint8Array): Buffer {
  const f = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  const l4 = f.readUInt16BE(12) === 0x0800 ? 14 + (f[14]! & 0xf) * 4 : 14 + 40;
  return Buffer.from(f.subarray(l4 + 8, l4 + f.readUInt16BE(l4 + 4)));
}
