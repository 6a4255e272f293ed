import { test } from 'vitest';
import assert from 'node:assert/strict';
import { ATTACH_TYPE, attachTypeName, attachTypeNumber, checkProgramFits } from './attach-type.js';
import { cgroup2Mounts, cgroup2Root } from './cgroup.js';
import { NA_ERR_BPF_INVALID, NA_ERR_BPF_NOT_FOUND } from './errors.js';
import { BPF_PROG_TYPE } from './program.js';

test('attach types by name and number (uapi values)', () => {
  assert.equal(attachTypeNumber('xdp'), 37);
  assert.equal(attachTypeNumber('cgroup_sock_ops'), 3);
  assert.equal(attachTypeNumber(5), 5);
  assert.equal(attachTypeName(ATTACH_TYPE.sk_msg_verdict), 'sk_msg_verdict');
  assert.equal(attachTypeName(99), 'attach type 99');
  assert.throws(() => attachTypeNumber('tc' as 'xdp'), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && /^attachType: expected one of cgroup_inet_ingress, /.test(e.message));
  assert.throws(() => attachTypeNumber(-1), (e: unknown) => NA_ERR_BPF_INVALID.is(e));
});

test('checkProgramFits names the attach type, the program and both types', () => {
  checkProgramFits('sk_msg_verdict', BPF_PROG_TYPE.sk_msg, 'p');
  assert.throws(
    () => checkProgramFits('cgroup_inet_egress', BPF_PROG_TYPE.sk_skb, 'verdict'),
    (e: unknown) => NA_ERR_BPF_INVALID.is(e) && e.message === 'attachType: cgroup_inet_egress needs a cgroup_skb program, verdict is sk_skb',
  );
});

test('cgroup2 mounts are read from /proc/self/mounts text (hybrid and pure v2 hosts)', () => {
  const hybrid = [
    'tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0',
    'cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0',
    'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0',
  ].join('\n');
  assert.deepEqual(cgroup2Mounts(hybrid), ['/sys/fs/cgroup/unified']);
  assert.equal(cgroup2Root('cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n'), '/sys/fs/cgroup');
  assert.equal(cgroup2Root('cgroup2 /mnt/my\\040cg cgroup2 rw 0 0\n'), '/mnt/my cg');
  assert.throws(() => cgroup2Root('proc /proc proc rw 0 0\n'), (e: unknown) => NA_ERR_BPF_NOT_FOUND.is(e));
});
