/** Unit: how `netaccel bpf` reads keys, values and globals (bpf.ts). */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { loaderV1 } from '@netaccel/rpc';
import { ATTACH_MODES, parseBytes, parseGlobals, programJson } from './bpf.js';

const usage = (fn: () => unknown, message: string) =>
  assert.throws(fn, (e: unknown) => (e as { code?: string }).code === 'NA_ERR_CLI_USAGE' && (e as Error).message === message);

test('bytes: hex, or little-endian typed fields joined by commas', () => {
  assert.deepEqual(parseBytes('0x0100', 'key'), Buffer.from([1, 0]));
  assert.deepEqual(parseBytes('hex:', 'key'), Buffer.alloc(0));
  assert.deepEqual(parseBytes('u16:4789', 'key'), Buffer.from([0xb5, 0x12]));
  assert.deepEqual(parseBytes('u32:1,u16:0x10,i8:-1', 'key'), Buffer.from([1, 0, 0, 0, 0x10, 0, 0xff]));
  assert.deepEqual(parseBytes('u64:18446744073709551615', 'v'), Buffer.alloc(8, 0xff));
  usage(() => parseBytes('0x123', 'key'), 'key: odd number of hex digits in 0x123');
  usage(() => parseBytes('u16:70000', 'key'), 'key: u16:70000 is out of range 0..65535');
  usage(() => parseBytes('i8:-129', 'key'), 'key: i8:-129 is out of range -128..127');
  usage(() => parseBytes('port', 'key'), 'key: expected hex (0x0100) or fields like u16:4789,u32:1, got "port"');
});

test('globals are name=<bytes>', () => {
  assert.deepEqual(parseGlobals(['drop_udp_port=u16:4789', 'mode=0x01']), { drop_udp_port: Buffer.from([0xb5, 0x12]), mode: Buffer.from([1]) });
  usage(() => parseGlobals(['=u16:1']), '--global: expected name=<bytes> (drop_udp_port=u16:4789), got "=u16:1"');
});

test('every proto attach mode has a CLI name; programs --json names interface, mode, object hash and run count', () => {
  const protos = Object.values(loaderV1.AttachMode).filter((v) => typeof v === 'number' && v > 0);
  assert.deepEqual(Object.values(ATTACH_MODES).sort(), protos.sort());
  const p = loaderV1.ProgramInfo.create({
    id: 'o-1/p', name: 'p', typeName: 'xdp', kernelId: 9, objectId: 'o-1', objectSha256: 'ab', runCount: 5n, runTimeNs: 50n, statsEnabled: true,
    attachPoints: [loaderV1.AttachPoint.create({ linkId: 'l-1', mode: loaderV1.AttachMode.ATTACH_MODE_XDP_NATIVE, target: { $case: 'iface', value: loaderV1.Interface.create({ name: 'eth0', ifindex: 2 }) }, pinPath: '/p' })],
  });
  const j = programJson(p);
  assert.deepEqual([j.objectSha256, j.runCount, j.attachments[0]!.mode, j.attachments[0]!.interface, j.attachments[0]!.ifindex], ['ab', 5n, 'xdp-native', 'eth0', 2]);
});
