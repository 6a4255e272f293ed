// @netaccel/craq/testing: real etcd and Redis for tests (@netaccel/netlab's, re-exported), and the
// user-space reference chain node (NOT the XDP node: the protocol and state machine from the
// codec, for tests without BPF).
export { TestEtcd, TestRedis, freePort } from '@netaccel/netlab';
export { ReferenceNode } from './reference-node.js';
export type { ReferenceDrops, ReferenceNodeOptions } from './reference-node.js';
export { ReferenceChain } from './reference-chain.js';
