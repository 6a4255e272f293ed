/**
 * Unit: reasons.ts and constants.ts against sidecar_kern_user.h and sidecar_consts.h (the one
 * source): names, values, paths and descriptions entry by entry; flags, actions, ABI sizes and
 * build defaults.
 */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import {
  SIDECAR_ACTION, SIDECAR_BUILD_DEFAULTS, SIDECAR_CONN_F, SIDECAR_LATENCY_BUCKETS, SIDECAR_MAX_PATH, SIDECAR_REASON, SIDECAR_REASONS,
  SIDECAR_REASON_MAX, SIDECAR_RULE_F, SIDECAR_STATUS_SLOTS, SIDECAR_STATUS_UNKNOWN, sidecarReason, sidecarReasonByName,
} from './index.js';
import { reasonHeaderProblems } from '../common/reasons-header.js';
import { headerText, parseDefines, parseEnum } from './header-text.js';

const kernUser = headerText('sidecar_kern_user.h');
const header = parseEnum(kernUser, 'sidecar_reason');

describe('reasons', () => {
  test('every reason of the header is in reasons.ts with its value, path and description', () => {
    const table = { prefix: 'SIDECAR_REASON_', key: 'path', values: SIDECAR_REASON, reasons: SIDECAR_REASONS, max: SIDECAR_REASON_MAX };
    assert.deepEqual(reasonHeaderProblems(table, header), []);
    assert.deepEqual(header[0], { name: 'SIDECAR_REASON_NONE', value: 0, comment: 'unused: no reason' });
  });

  test('lookups', () => {
    assert.equal(sidecarReason(SIDECAR_REASON.DENIED)?.path, 'user');
    assert.equal(sidecarReason(0), undefined);
    assert.equal(sidecarReasonByName('REDIRECTED')?.path, 'kernel');
    assert.equal(sidecarReasonByName('SIDECAR_REASON_OFFLOADED')?.path, 'normal');
    assert.equal(sidecarReasonByName('NOPE'), undefined);
  });
});

describe('constants', () => {
  const defines = parseDefines(kernUser);
  test('flags, actions and ABI sizes', () => {
    for (const [k, v] of Object.entries(SIDECAR_RULE_F)) assert.equal(defines.get(`SIDECAR_RULE_F_${k}`), v, k);
    for (const [k, v] of Object.entries(SIDECAR_CONN_F)) assert.equal(defines.get(`SIDECAR_CONN_F_${k}`), v, k);
    assert.deepEqual(parseEnum(kernUser, 'sidecar_action').map((e) => [e.name, e.value]), Object.entries(SIDECAR_ACTION).map(([k, v]) => [`SIDECAR_ACTION_${k}`, v]));
    assert.equal(defines.get('SIDECAR_MAX_PATH'), SIDECAR_MAX_PATH);
    assert.equal(defines.get('SIDECAR_STATUS_UNKNOWN'), SIDECAR_STATUS_UNKNOWN);
    assert.equal(defines.get('SIDECAR_STATUS_SLOTS'), SIDECAR_STATUS_SLOTS);
    assert.equal(defines.get('SIDECAR_LATENCY_BUCKETS'), SIDECAR_LATENCY_BUCKETS);
  });

  test('build defaults', () => {
    const consts = parseDefines(headerText('sidecar_consts.h'));
    for (const [k, v] of Object.entries(SIDECAR_BUILD_DEFAULTS)) assert.equal(consts.get(k), v, k);
  });
});
