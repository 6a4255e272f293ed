/**
 * Unit: reasons.ts and constants.ts against electrode_kern_user.h and electrode_consts.h (the
 * one source): reasons entry by entry (name, value, verdict, description), counters, flags,
 * message types, statuses, slot states and build defaults.
 */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { reasonHeaderProblems } from '../common/reasons-header.js';
import { headerReader, parseDefines, parseEnum } from '../common/header-text.js';
import {
  ELECTRODE_BUILD_DEFAULTS,
  ELECTRODE_OFF,
  ELECTRODE_REPLICA_F,
  ELECTRODE_SLOT,
  ELECTRODE_STAT,
  ELECTRODE_STAT_MAX,
  ELECTRODE_STATUS,
  PAXOS_F,
  PAXOS_MSG,
  PAXOS_WIRE,
} from './constants.js';
import { ELECTRODE_R, ELECTRODE_REASONS, ELECTRODE_R_MAX, electrodeReason, electrodeReasonByName } from './reasons.js';

const text = headerReader(import.meta.url);
const KU = text('electrode_kern_user.h');
const defines = new Map([...parseDefines(KU), ...parseDefines(text('electrode_consts.h'))]);

describe('reasons', () => {
  test('every reason of the header is in reasons.ts with its value, verdict and description', () => {
    const table = { prefix: 'ELECTRODE_R_', key: 'verdict', values: ELECTRODE_R, reasons: ELECTRODE_REASONS, max: ELECTRODE_R_MAX };
    assert.deepEqual(reasonHeaderProblems(table, parseEnum(KU, 'electrode_reason')), []);
  });

  test('lookups by value and by name', () => {
    assert.equal(electrodeReason(ELECTRODE_R.GAP)?.name, 'ELECTRODE_R_GAP');
    assert.equal(electrodeReason(0), undefined);
    assert.equal(electrodeReason(ELECTRODE_R_MAX), undefined);
    assert.equal(electrodeReasonByName('ACK_DUPLICATE')?.verdict, 'drop');
    assert.equal(electrodeReasonByName('ELECTRODE_R_RING_FULL')?.verdict, 'pass');
    assert.equal(electrodeReasonByName('NOPE'), undefined);
  });
});

describe('constants', () => {
  const entries = (name: string) => Object.fromEntries(parseEnum(KU, name).map((e) => [e.name, e.value]));

  test('counters (enum electrode_stat)', () => {
    const want = Object.fromEntries(Object.entries(ELECTRODE_STAT).map(([k, v]) => [`ELECTRODE_STAT_${k}`, v]));
    assert.deepEqual(entries('electrode_stat'), { ...want, ELECTRODE_STAT_MAX });
  });

  test('message types, statuses, slot states', () => {
    assert.deepEqual(entries('paxos_msg_type'), {
      PAXOS_REQUEST: PAXOS_MSG.REQUEST, PAXOS_REPLY: PAXOS_MSG.REPLY, PAXOS_PREPARE: PAXOS_MSG.PREPARE,
      PAXOS_PREPARE_OK: PAXOS_MSG.PREPARE_OK, PAXOS_COMMIT: PAXOS_MSG.COMMIT, PAXOS_TYPE_MAX: PAXOS_MSG.TYPE_MAX,
    });
    assert.deepEqual(entries('electrode_status'), {
      ELECTRODE_STATUS_NORMAL: ELECTRODE_STATUS.normal, ELECTRODE_STATUS_VIEW_CHANGE: ELECTRODE_STATUS['view-change'], ELECTRODE_STATUS_RECOVERING: ELECTRODE_STATUS.recovering,
    });
    assert.deepEqual(entries('electrode_slot_state'), { ELECTRODE_SLOT_FREE: ELECTRODE_SLOT.FREE, ELECTRODE_SLOT_WRITING: ELECTRODE_SLOT.WRITING, ELECTRODE_SLOT_FULL: ELECTRODE_SLOT.FULL });
  });

  test('flags, offload bits, wire constants, build defaults', () => {
    const want: Record<string, number> = {
      PAXOS_F_FAST: PAXOS_F.FAST, PAXOS_F_QUORUM: PAXOS_F.QUORUM,
      ELECTRODE_OFF_BROADCAST: ELECTRODE_OFF.BROADCAST, ELECTRODE_OFF_FAST_ACK: ELECTRODE_OFF.FAST_ACK, ELECTRODE_OFF_QUORUM: ELECTRODE_OFF.QUORUM, ELECTRODE_OFF_ALL: ELECTRODE_OFF.ALL,
      ELECTRODE_REPLICA_F_VALID: ELECTRODE_REPLICA_F.VALID,
      PAXOS_MAGIC: PAXOS_WIRE.magic, PAXOS_VERSION: PAXOS_WIRE.version, PAXOS_HDR_LEN: PAXOS_WIRE.headerLen, PAXOS_MAX_MSG: PAXOS_WIRE.maxMsg,
      PAXOS_DEFAULT_PORT: PAXOS_WIRE.defaultPort, PAXOS_CLIENT_SENDER: PAXOS_WIRE.clientSender,
      ...ELECTRODE_BUILD_DEFAULTS,
    };
    for (const [name, value] of Object.entries(want)) assert.equal(defines.get(name), value, name);
  });
});
