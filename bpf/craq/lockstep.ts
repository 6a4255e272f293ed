/**
 * A chain node for the BPF tests: the XDP program (a CraqNodeObject of its own) and the
 * reference model side by side. Every frame goes through both and must give the same verdict
 * and output bytes; key entries read back must be equal; map writes (a repair's install and
 * request records) go to both. Used by at-most-once.bpf.test.ts and linearizability.bpf.test.ts.
 */
import assert from 'node:assert/strict';
import type { CraqConfig, CraqKeyEntry } from './codec.js';
import type { CraqNodeObject } from './craq-harness.js';
import { chainConfig, worldKeys } from './fixtures.js';
import type { Role } from './fixtures.js';
import { ModelNode } from './retry-scenario.js';
import type { ScenarioNode } from './retry-scenario.js';

export class LockstepNode implements ScenarioNode {
  readonly model: ModelNode;

  /** Node `i` with `role`: the program's config and keys (worldKeys, no request records). */
  constructor(readonly i: number, readonly prog: CraqNodeObject, role: Role, opts: { netchain?: boolean; checkRequests?: boolean } = {}) {
    this.model = new ModelNode(chainConfig(role, opts), worldKeys());
    prog.setConfig(chainConfig(role, opts));
    for (const [id, k] of worldKeys()) prog.putKey(id, k);
    this.#checkRequests = opts.checkRequests ?? true;
  }

  readonly #checkRequests: boolean;

  setConfig(c: CraqConfig): void {
    this.model.setConfig(c);
    this.prog.setConfig(c);
  }

  /** The frame through both; with checkRequests, every key's request ring (craq_key.reqs) compared after each frame too. */
  run(f: Uint8Array): { verdict: string; frame: Uint8Array } {
    const want = this.model.run(f);
    const got = this.prog.run(f);
    assert.equal(got.verdict, want.verdict, `node ${this.i} verdict`);
    assert.equal(Buffer.from(got.data).toString('hex'), Buffer.from(want.frame).toString('hex'), `node ${this.i} output`);
    if (this.#checkRequests) {
      for (const id of this.model.state.keys.keys()) assert.deepEqual(this.prog.key(id)?.requests, this.model.key(id)?.requests, `node ${this.i} key ${id} requests`);
    }
    return want; // the same bytes (checked), as a plain Uint8Array
  }

  key(keyId: bigint): CraqKeyEntry | undefined {
    const got = this.prog.key(keyId);
    assert.deepEqual(got, this.model.key(keyId), `node ${this.i} key entry`);
    return got;
  }

  putKey(keyId: bigint, e: CraqKeyEntry): void {
    this.model.putKey(keyId, e);
    this.prog.putKey(keyId, e);
  }

  putRequest(reqId: bigint, keyId: bigint, version: bigint): void {
    this.model.putRequest(reqId, keyId, version);
    this.prog.putRequest(reqId, keyId, version);
  }
}
