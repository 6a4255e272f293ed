// The runners' argv: a replica runner gets the young-generation flag bench/paxos measured
// (REPLICA_NODE_FLAGS, the one definition the lab, the bench and bpf/electrode share); a client
// runner does not.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { REPLICA_NODE_FLAGS, runnerArgv } from './processes.js';

test('a replica runner starts with REPLICA_NODE_FLAGS before its script; a client runner without', () => {
  assert.deepEqual(REPLICA_NODE_FLAGS, ['--max-semi-space-size=64']);
  const replica = runnerArgv('replica-runner', ['0', 'group']);
  const script = replica.findIndex((a) => /replica-runner\.(ts|js)$/.test(a));
  assert.ok(script > 0, replica.join(' '));
  assert.equal(replica[0], process.execPath);
  assert.ok(replica.slice(1, script).includes('--max-semi-space-size=64'), 'a node option, before the script');
  assert.deepEqual(replica.slice(script + 1), ['0', 'group']);
  const client = runnerArgv('client-runner', ['g']);
  assert.ok(!client.includes('--max-semi-space-size=64'));
});
