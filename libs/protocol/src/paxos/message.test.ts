import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isNetaccelError } from '@netaccel/errors';
import { PAXOS_HDR, PAXOS_MAX_ENTRY, PAXOS_MAX_MSG, PAXOS_MAX_OP, PAXOS_REGISTER_ID, PaxosFlag, PaxosType, ReplyStatus } from './constants.js';
import { decodeEntry, encodeEntry } from './entry.js';
import { paxosWireErrors } from './errors.js';
import { decodePaxosHeader } from './header.js';
import { decodePaxos, encodePaxos } from './message.js';
import type { PaxosMessage } from './model.js';
import { entryRequests, paxosMessage } from './testing/arbitrary.js';

const CODES = new Set(Object.keys(paxosWireErrors));
const SEED = Number(process.env.PAXOS_FUZZ_SEED ?? 20261207);

/** Decodes; returns the error code instead of throwing, and fails on anything but a typed error. */
function tryDecode(bytes: Uint8Array): PaxosMessage | string {
  try {
    return decodePaxos(bytes);
  } catch (err) {
    assert.ok(isNetaccelError(err) && CODES.has(err.code), `untyped error: ${String(err)}`);
    return err.code;
  }
}

const prepare = (): Buffer =>
  encodePaxos({ type: PaxosType.Prepare, sender: 0, view: 3, op: 7n, commit: 5n, requests: [{ clientId: 9n, requestId: 2n, payload: Buffer.from('ab') }] });

test('a PREPARE has the layout of the spec, byte for byte', () => {
  const hex = prepare().toString('hex');
  assert.equal(
    hex,
    '4e415058' + '01' + '03' + '00' + '00' + '00000003' + '00000016' + '0000000000000007' + '0000000000000005' + // header
      '0001' + '0000000000000009' + '0000000000000002' + '0002' + '6162', // one request
  );
  const h = decodePaxosHeader(prepare());
  assert.deepEqual(h, { type: 3, sender: 0, flags: 0, view: 3, bodyLen: 22, op: 7n, commit: 5n });
});

test('a PREPARE_OK from the XDP fast-ack carries its flags and an empty body', () => {
  const b = encodePaxos({ type: PaxosType.PrepareOk, sender: 2, view: 1, op: 42n, flags: PaxosFlag.Fast });
  assert.equal(b.length, 32);
  assert.equal(b[PAXOS_HDR.flags], 1);
  assert.deepEqual(decodePaxos(b), { type: PaxosType.PrepareOk, sender: 2, view: 1, op: 42n, flags: 1 });
});

test('property: every message round-trips, and re-encoding the decoded form gives the same bytes', () => {
  fc.assert(
    fc.property(paxosMessage, (m) => {
      const bytes = encodePaxos(m);
      assert.ok(bytes.length <= PAXOS_MAX_MSG);
      const back = decodePaxos(bytes);
      assert.deepEqual(normalize(back), normalize(m));
      assert.deepEqual(encodePaxos(back), bytes);
    }),
    { seed: SEED, numRuns: 3000 },
  );
});

test('property: every strict prefix of a valid message is refused with a typed error', () => {
  fc.assert(
    fc.property(paxosMessage, fc.nat(), (m, cut) => {
      const bytes = encodePaxos(m);
      const r = tryDecode(bytes.subarray(0, cut % bytes.length));
      assert.equal(typeof r, 'string');
    }),
    { seed: SEED, numRuns: 2000 },
  );
});

test('property: random bytes and mutated messages decode or fail with a typed error, never otherwise', () => {
  const outcomes = new Map<string, number>();
  const count = (k: string): void => void outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 1500 }),
        fc.tuple(paxosMessage, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })).map(([m, flips]) => {
          const b = Buffer.from(encodePaxos(m));
          for (const [at, v] of flips) b[at % b.length] = v;
          return b;
        }),
      ),
      (bytes) => {
        const r = tryDecode(bytes);
        if (typeof r === 'string') count(r);
        else {
          count('ok');
          assert.deepEqual(decodePaxos(encodePaxos(r)), r);
        }
      },
    ),
    { seed: SEED, numRuns: 20_000 },
  );
  // The mutations reach most checks, not only the first.
  for (const code of ['ok', 'NA_ERR_PAXOSWIRE_TRUNCATED', 'NA_ERR_PAXOSWIRE_BAD_MAGIC', 'NA_ERR_PAXOSWIRE_BAD_VERSION', 'NA_ERR_PAXOSWIRE_BAD_TYPE', 'NA_ERR_PAXOSWIRE_BAD_LENGTH', 'NA_ERR_PAXOSWIRE_BAD_SENDER', 'NA_ERR_PAXOSWIRE_BAD_FLAGS', 'NA_ERR_PAXOSWIRE_BAD_FIELD']) {
    assert.ok((outcomes.get(code) ?? 0) > 0, `${code} never reached: ${JSON.stringify([...outcomes])}`);
  }
});

/** Sets one header byte (and nothing else) of a valid message. */
function withByte(b: Buffer, at: number, v: number): Buffer {
  const c = Buffer.from(b);
  c[at] = v;
  return c;
}

function withU64(b: Buffer, at: number, v: bigint): Buffer {
  const c = Buffer.from(b);
  c.writeBigUInt64BE(v, at);
  return c;
}

test('header checks: each bad field is refused with its code and the field named', () => {
  const p = prepare();
  const cases: Array<[string, Uint8Array, string, RegExp]> = [
    ['31 bytes', p.subarray(0, 31), 'NA_ERR_PAXOSWIRE_TRUNCATED', /header: needs 32 bytes, 31 left/],
    ['1401 bytes', Buffer.concat([p, Buffer.alloc(PAXOS_MAX_MSG + 1 - p.length)]), 'NA_ERR_PAXOSWIRE_TOO_LARGE', /1401 bytes/],
    ['magic', withByte(p, 0, 0), 'NA_ERR_PAXOSWIRE_BAD_MAGIC', /header\.magic/],
    ['version 2', withByte(p, PAXOS_HDR.version, 2), 'NA_ERR_PAXOSWIRE_BAD_VERSION', /got 2/],
    ['type 0', withByte(p, PAXOS_HDR.type, 0), 'NA_ERR_PAXOSWIRE_BAD_TYPE', /header\.type: 0/],
    ['type 15', withByte(p, PAXOS_HDR.type, 15), 'NA_ERR_PAXOSWIRE_BAD_TYPE', /15/],
    ['body_len', Buffer.concat([p, Buffer.of(0)]), 'NA_ERR_PAXOSWIRE_BAD_LENGTH', /header\.body_len: 22 but the datagram carries 23/],
    ['sender 31', withByte(p, PAXOS_HDR.sender, 31), 'NA_ERR_PAXOSWIRE_BAD_SENDER', /31 on a PREPARE/],
    ['client sender on a PREPARE', withByte(p, PAXOS_HDR.sender, 255), 'NA_ERR_PAXOSWIRE_BAD_SENDER', /255/],
    ['FAST on a PREPARE', withByte(p, PAXOS_HDR.flags, 1), 'NA_ERR_PAXOSWIRE_BAD_FLAGS', /0x1 on a PREPARE/],
    ['commit = op on a PREPARE', withU64(p, PAXOS_HDR.commit, 7n), 'NA_ERR_PAXOSWIRE_BAD_FIELD', /header\.commit: 7 must be below op 7/],
    ['op 0 on a PREPARE', withU64(p, PAXOS_HDR.op, 0n), 'NA_ERR_PAXOSWIRE_BAD_FIELD', /header\.op/],
  ];
  for (const [what, bytes, code, message] of cases) {
    assert.throws(() => decodePaxos(bytes), (err: unknown) => isNetaccelError(err) && err.code === code && message.test(err.message), what);
  }
});

test('body checks per type', () => {
  const req = encodePaxos({ type: PaxosType.Request, view: 0, clientId: 1n, requestId: 1n, payload: Buffer.from('x') });
  assert.throws(() => decodePaxos(withByte(req, PAXOS_HDR.sender, 0)), /REQUEST, expected 255/);
  assert.throws(() => decodePaxos(withU64(req, PAXOS_HDR.op, 1n)), /header\.op: must be 0 on a REQUEST/);
  const longer = Buffer.concat([req, Buffer.of(0)]);
  longer.writeUInt32BE(longer.length - 32, PAXOS_HDR.bodyLen);
  assert.throws(() => decodePaxos(longer), /request: 1 bytes after the operation/);
  const ok = encodePaxos({ type: PaxosType.PrepareOk, sender: 1, view: 0, op: 1n, flags: 0 });
  assert.throws(() => decodePaxos(withByte(ok, PAXOS_HDR.flags, 4)), /header\.flags: 0x4 on a PREPARE_OK, allowed 0x3/);
  assert.throws(() => decodePaxos(withU64(ok, PAXOS_HDR.commit, 1n)), /must be 0 on a PREPARE_OK/);
  const svc = encodePaxos({ type: PaxosType.StartViewChange, sender: 1, view: 1 });
  assert.throws(() => decodePaxos(withByte(svc, PAXOS_HDR.view + 3, 0)), /goes to a view >= 1, got 0/);
  const dvc = encodePaxos({ type: PaxosType.DoViewChange, sender: 1, view: 4, op: 9n, commit: 3n, lastNormalView: 2 });
  const dvcBad = Buffer.from(dvc);
  dvcBad.writeUInt32BE(4, 32);
  assert.throws(() => decodePaxos(dvcBad), /last_normal_view: 4 is not below view 4/);
  assert.throws(() => decodePaxos(withU64(dvc, PAXOS_HDR.commit, 10n)), /header\.commit: 10 exceeds op 9/);
  const reply = encodePaxos({ type: PaxosType.Reply, sender: 0, view: 0, clientId: 1n, requestId: 1n, status: ReplyStatus.Ok, result: Buffer.from('v') });
  assert.throws(() => decodePaxos(withByte(reply, 32 + 16, 4)), /reply\.status: expected 0 \(OK\), 1 \(NOT_LEADER\), 2 \(ERROR\) or 3 \(SESSION_EXPIRED\), got 4/);
  const expired = decodePaxos(withByte(reply, 32 + 16, 3));
  assert.equal(expired.type === PaxosType.Reply && expired.status, ReplyStatus.SessionExpired);
  assert.throws(() => decodePaxos(withByte(reply, 32 + 16, 1)), /NOT_LEADER result is one byte/);
  const ns = encodePaxos({ type: PaxosType.NewState, sender: 0, view: 1, op: 5n, commit: 2n, entries: [
    { op: 4n, view: 1, body: encodeEntry([{ clientId: 1n, requestId: 1n, payload: Buffer.alloc(0) }]) },
    { op: 5n, view: 1, body: encodeEntry([{ clientId: 1n, requestId: 2n, payload: Buffer.alloc(0) }]) },
  ] });
  assert.throws(() => decodePaxos(withU64(ns, 32 + 2 + 14 + 20, 7n)), /new_state\.entries\[1\]\.op: expected 5 \(consecutive\), got 7/);
  assert.throws(() => decodePaxos(withU64(ns, PAXOS_HDR.op, 4n)), /last op 5 exceeds header op 4/);
  const rec = encodePaxos({ type: PaxosType.Recovery, sender: 2, nonce: 77n });
  assert.throws(() => decodePaxos(withByte(rec, PAXOS_HDR.view + 3, 1)), /header\.view: must be 0 on a RECOVERY/);
});

test('entries: empty, oversized and trailing bytes are refused; the largest operation fits alone', () => {
  assert.throws(() => decodeEntry(Buffer.of(0, 0)), /entry\.count: an entry holds at least one request, got 0/);
  assert.throws(() => decodeEntry(Buffer.alloc(PAXOS_MAX_ENTRY + 1)), /exceed the largest entry, 1352/);
  const one = encodeEntry([{ clientId: 1n, requestId: 1n, payload: Buffer.alloc(PAXOS_MAX_OP) }]);
  assert.equal(one.length, PAXOS_MAX_ENTRY);
  assert.throws(() => decodeEntry(Buffer.concat([one.subarray(0, 30), Buffer.of(1)])), /TRUNCATED|needs/);
  const b = encodeEntry([{ clientId: 1n, requestId: 1n, payload: Buffer.from('ab') }]);
  assert.throws(() => decodeEntry(Buffer.concat([b, Buffer.of(0)])), /1 bytes after the last of 1 requests/);
  const ns = encodePaxos({ type: PaxosType.NewState, sender: 0, view: 0, op: 1n, commit: 0n, entries: [{ op: 1n, view: 0, body: one }] });
  assert.equal(ns.length, PAXOS_MAX_MSG);
});

test('the encoder names the bad field and refuses what the decoder would refuse', () => {
  const cases: Array<[PaxosMessage, RegExp]> = [
    [{ type: PaxosType.Request, view: 0, clientId: -1n, requestId: 1n, payload: Buffer.alloc(0) }, /clientId: expected a u64/],
    [{ type: PaxosType.Request, view: 0, clientId: 1n, requestId: 1n, payload: Buffer.alloc(PAXOS_MAX_OP + 1) }, /payload: 1333 bytes exceed the largest operation, 1332/],
    [{ type: PaxosType.Commit, sender: 31, view: 0, commit: 0n }, /sender: expected a replica index 0\.\.30/],
    [{ type: PaxosType.Commit, sender: 0, view: 2 ** 32, commit: 0n }, /view: expected a u32/],
    [{ type: PaxosType.Prepare, sender: 0, view: 0, op: 1n, commit: 0n, requests: [] }, /requests\.requests: an entry holds at least one request/],
    [{ type: PaxosType.Prepare, sender: 0, view: 0, op: 1n, commit: 1n, requests: [{ clientId: 1n, requestId: 1n, payload: Buffer.alloc(0) }] }, /commit: expected below op 1/],
    [{ type: PaxosType.PrepareOk, sender: 0, view: 0, op: 1n, flags: 8 }, /flags/],
    [{ type: PaxosType.DoViewChange, sender: 0, view: 3, op: 1n, commit: 0n, lastNormalView: 3 }, /lastNormalView: expected a u32 below view 3/],
    [{ type: PaxosType.StartViewChange, sender: 0, view: 0 }, /view: a view change goes to a view >= 1/],
    [{ type: PaxosType.Reply, sender: 0, view: 0, clientId: 1n, requestId: 1n, status: ReplyStatus.NotLeader, result: Buffer.of(40) }, /NOT_LEADER result/],
    [{ type: PaxosType.NewState, sender: 0, view: 0, op: 3n, commit: 0n, entries: [{ op: 1n, view: 0, body: Buffer.of(0, 0) }] }, /entries\[0\]\.body\.count/],
  ];
  for (const [m, re] of cases) {
    assert.throws(() => encodePaxos(m), (err: unknown) => isNetaccelError(err) && err.code.startsWith('NA_ERR_PAXOSWIRE_') && re.test(err.message), re.source);
  }
  // Entries too large together for one datagram.
  const big = encodeEntry([{ clientId: 1n, requestId: 1n, payload: Buffer.alloc(700) }]);
  assert.throws(() => encodePaxos({ type: PaxosType.NewState, sender: 0, view: 0, op: 2n, commit: 0n, entries: [{ op: 1n, view: 0, body: big }, { op: 2n, view: 0, body: big }] }), /NEW_STATE: 1502 bytes exceed the largest message, 1400/);
});

test('property: entries round-trip', () => {
  fc.assert(
    fc.property(entryRequests, (rs) => {
      assert.deepEqual(decodeEntry(encodeEntry(rs)).map(plain), rs.map(plain));
    }),
    { seed: SEED, numRuns: 500 },
  );
});

function plain(r: { clientId: bigint; requestId: bigint; payload: Uint8Array }): unknown {
  return { clientId: r.clientId, requestId: r.requestId, payload: Buffer.from(r.payload).toString('hex') };
}

/** Buffers as hex, so structural equality ignores shared memory and Buffer vs Uint8Array. */
function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  return v;
}

test('a session registration: flagged REGISTER exactly on request id 2^63, with no op, in REQUESTs and entries', () => {
  const reg = encodePaxos({ type: PaxosType.Request, view: 2, clientId: 77n, requestId: PAXOS_REGISTER_ID, payload: Buffer.alloc(0) });
  assert.equal(reg[PAXOS_HDR.flags], PaxosFlag.Register);
  assert.deepEqual(decodePaxos(reg), { type: PaxosType.Request, view: 2, clientId: 77n, requestId: PAXOS_REGISTER_ID, payload: Buffer.alloc(0) });
  const plain = encodePaxos({ type: PaxosType.Request, view: 2, clientId: 77n, requestId: PAXOS_REGISTER_ID + 1n, payload: Buffer.from('x') });
  assert.equal(plain[PAXOS_HDR.flags], 0, 'an ordinary request (session bit set or not) carries no flag');
  // the flag without the id, the id without the flag, an unknown flag, an op on a registration
  assert.equal(tryDecode(withByte(plain, PAXOS_HDR.flags, PaxosFlag.Register)), 'NA_ERR_PAXOSWIRE_BAD_FIELD');
  assert.throws(() => decodePaxos(withByte(reg, PAXOS_HDR.flags, 0)), /request\.request_id: 9223372036854775808 with flags 0x0: REGISTER \(0x4\) is set exactly on request id 2\^63/);
  assert.throws(() => decodePaxos(withByte(reg, PAXOS_HDR.flags, 0x0c)), /header\.flags: 0xc on a REQUEST, allowed 0x4/);
  assert.equal(tryDecode(withByte(reg, PAXOS_HDR.flags, PaxosFlag.Fast)), 'NA_ERR_PAXOSWIRE_BAD_FLAGS');
  const withOp = Buffer.concat([reg, Buffer.from('x')]);
  withOp.writeUInt32BE(withOp.length - 32, PAXOS_HDR.bodyLen);
  withOp.writeUInt16BE(1, 32 + 16);
  assert.throws(() => decodePaxos(withOp), /request\.op_len: 1: a registration \(request id 2\^63\) carries no operation/);
  assert.throws(() => encodePaxos({ type: PaxosType.Request, view: 0, clientId: 1n, requestId: PAXOS_REGISTER_ID, payload: Buffer.from('x') }), /payload: a registration/);
  // registering under a session's id (2^63 and up) is refused: it could revive an evicted session
  assert.throws(() => encodePaxos({ type: PaxosType.Request, view: 0, clientId: PAXOS_REGISTER_ID | 5n, requestId: PAXOS_REGISTER_ID, payload: Buffer.alloc(0) }), /clientId: a registration's client id is below 2\^63/);
  const underSession = Buffer.from(reg);
  underSession.writeBigUInt64BE(PAXOS_REGISTER_ID | 5n, 32);
  assert.throws(() => decodePaxos(underSession), /request\.client_id: 9223372036854775813: a registration's client id is below 2\^63/);
  // in a log entry the id alone marks it
  const entry = encodeEntry([{ clientId: 5n, requestId: PAXOS_REGISTER_ID, payload: Buffer.alloc(0) }, { clientId: 6n, requestId: 1n, payload: Buffer.from('ab') }]);
  assert.deepEqual(decodeEntry(entry).map((r) => [r.clientId, r.requestId, r.payload.length]), [[5n, PAXOS_REGISTER_ID, 0], [6n, 1n, 2]]);
  assert.throws(() => encodeEntry([{ clientId: 5n, requestId: PAXOS_REGISTER_ID, payload: Buffer.from('x') }]), /requests\[0\]\.payload: a registration/);
  const forged = encodeEntry([{ clientId: 5n, requestId: PAXOS_REGISTER_ID - 1n, payload: Buffer.from('x') }]);
  forged.writeBigUInt64BE(PAXOS_REGISTER_ID, 2 + 8);
  assert.throws(() => decodeEntry(forged), /entry\.requests\[0\]\.op_len: 1: a registration/);
});
