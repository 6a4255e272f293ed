import { test } from 'vitest';
import assert from 'node:assert/strict';
import { isBpffsMounted } from './bpffs.js';

const MOUNTS = [
  'sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0',
  'bpf /sys/fs/bpf bpf rw,relatime 0 0',
  'tmpfs /run/bpf tmpfs rw 0 0',
].join('\n');

test('isBpffsMounted reads /proc/self/mounts lines: mount point and type must both match', () => {
  assert.equal(isBpffsMounted('/sys/fs/bpf', MOUNTS), true);
  assert.equal(isBpffsMounted('/run/bpf', MOUNTS), false, 'tmpfs is not bpffs');
  assert.equal(isBpffsMounted('/sys/fs', MOUNTS), false);
  assert.equal(isBpffsMounted('/sys/fs/bpf', 'sysfs /sys sysfs rw 0 0'), false);
});
