import { test } from 'vitest';
import assert from 'node:assert/strict';
import { loaderV1 } from '@netaccel/rpc';
import { MODES, modeByName, modeOfProto, protoProgramType } from './attach-mode.js';
import { NA_ERR_LOADER_INVALID_REQUEST } from './errors.js';
import { ATTACH_MODES } from './state.js';

test('every proto attach mode but UNSPECIFIED has exactly one mode, and back', () => {
  const protos = Object.values(loaderV1.AttachMode).filter((v): v is loaderV1.AttachMode => typeof v === 'number' && v > 0);
  assert.equal(protos.length, ATTACH_MODES.length);
  for (const p of protos) assert.equal(MODES[modeOfProto(p).name].proto, p);
  assert.deepEqual(ATTACH_MODES.map((n) => modeByName(n)?.name), [...ATTACH_MODES]);
  assert.equal(modeByName('turbo'), undefined);
});

test('kinds, targets and the program types that fit', () => {
  assert.deepEqual([MODES['xdp-generic'].kind, MODES['xdp-generic'].target, MODES['xdp-generic'].xdpMode], ['xdp', 'iface', 'generic']);
  assert.deepEqual([MODES['tc-egress'].programType, MODES['tc-egress'].tcDirection], ['sched_cls', 'egress']);
  assert.deepEqual([MODES['sk-msg-verdict'].target, MODES['sk-msg-verdict'].attachType], ['sockmapId', 'sk_msg_verdict']);
  // the verdict without a stream parser: the same sk_skb programs, another kernel attach type
  assert.deepEqual([MODES['sk-skb-verdict'].kind, MODES['sk-skb-verdict'].programType, MODES['sk-skb-verdict'].attachType], ['sockmap', 'sk_skb', 'sk_skb_verdict']);
  assert.equal(modeOfProto(loaderV1.AttachMode.ATTACH_MODE_SK_SKB_VERDICT).name, 'sk-skb-verdict');
  assert.deepEqual([MODES.sockops.target, MODES.sockops.programType, MODES.sockops.attachType], ['cgroupPath', 'sock_ops', 'cgroup_sock_ops']);
  assert.equal(protoProgramType('xdp'), loaderV1.ProgramType.PROGRAM_TYPE_XDP);
  assert.equal(protoProgramType('lsm'), loaderV1.ProgramType.PROGRAM_TYPE_OTHER);
});

test('UNSPECIFIED and unknown numbers are refused naming the choices', () => {
  assert.throws(() => modeOfProto(loaderV1.AttachMode.ATTACH_MODE_UNSPECIFIED), (e: unknown) => NA_ERR_LOADER_INVALID_REQUEST.is(e) && /^point\.mode: expected one of ATTACH_MODE_XDP_NATIVE, .*ATTACH_MODE_CGROUP_CONNECT6, got ATTACH_MODE_UNSPECIFIED$/.test(e.message));
  assert.throws(() => modeOfProto(99 as loaderV1.AttachMode), (e: unknown) => NA_ERR_LOADER_INVALID_REQUEST.is(e) && /got UNRECOGNIZED$/.test(e.message));
});
