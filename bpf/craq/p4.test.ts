/**
 * Unit: p4/netcraq.p4 (not compiled here: no p4c) against its description p4info.ts, the wire
 * codec and the reference model. The P4 source is parsed as text: its declared tables, actions,
 * registers, counters and digest are exactly the described ones; the craq_t and craq_trailer_t
 * headers have the codec's field offsets; its op/status/flag/reason constants are the C
 * header's; and every decision the model makes on the fixtures maps onto a P4 action.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { craq } from '@netaccel/protocol';
import { CRAQ_LAYOUTS } from './codec.js';
import { craqFixtures } from './fixtures.js';
import { craqStep } from './model.js';
import {
  NETCRAQ_P4_COUNTERS,
  NETCRAQ_P4_DIGESTS,
  NETCRAQ_P4_HEADERS,
  NETCRAQ_P4_MODEL_ACTIONS,
  NETCRAQ_P4_NETCHAIN_ACTIONS,
  NETCRAQ_P4_REASONS,
  NETCRAQ_P4_REGISTERS,
  NETCRAQ_P4_TABLES,
  NETCRAQ_P4_WORDS,
  netcraqP4Action,
  netcraqP4Actions,
  p4RuntimeName,
} from './p4info.js';
import { CRAQ_REASON, CRAQ_STAT } from './reasons.js';

const P4 = readFileSync(new URL('../../p4/netcraq.p4', import.meta.url), 'utf8');
const ingress = P4.slice(P4.indexOf('control NetCraqIngress('), P4.indexOf('control NetCraqIngressDeparser('));
const apply = ingress.slice(ingress.lastIndexOf('apply {'));
const defines = new Map([...P4.matchAll(/^#define (\w+) (0x[0-9a-f]+|\d+)\b/gm)].map((m) => [m[1]!, Number(m[2])]));

test('the ingress declares exactly the described tables, with their keys and actions', () => {
  const tables = [...ingress.matchAll(/^\s*table (\w+) \{([\s\S]*?)\n {4}\}/gm)];
  assert.deepEqual(tables.map((m) => m[1]).sort(), Object.keys(NETCRAQ_P4_TABLES).sort());
  for (const [, name, body] of tables) {
    const keys = [...(body!.match(/key = \{([\s\S]*?)\}/)?.[1] ?? '').matchAll(/([\w.]+): exact;/g)].map((m) => m[1]);
    const actions = (body!.match(/actions = \{([^}]*)\}/)?.[1] ?? '').split(';').map((s) => s.trim()).filter(Boolean);
    assert.deepEqual({ keys, actions }, { keys: [...NETCRAQ_P4_TABLES[name!]!.keys], actions: [...NETCRAQ_P4_TABLES[name!]!.actions] }, name);
  }
});

test('the ingress declares exactly the described actions', () => {
  assert.deepEqual([...ingress.matchAll(/^\s*action (\w+)\(/gm)].map((m) => m[1]).sort(), netcraqP4Actions());
});

test('registers (with the value words of the WORDS macro), counters and the digest are the described ones', () => {
  const regs = new Map([...ingress.matchAll(/Register<bit<(\d+)>, bit<32>>\([^;]*\) (\w+);/g)].map((m) => [m[2]!, Number(m[1])]));
  const words = P4.match(/#define VALUE_REG\(k\) Register<bit<(\d+)>, bit<32>>\([^)]*\) craq_value_w##k;/);
  assert.ok(words, 'VALUE_REG declares one 32-bit register per word');
  const listed = [...(P4.match(/#define WORDS\(M\)([\s\S]*?)\n\n/)?.[1] ?? '').matchAll(/M\((\d+)\)/g)].map((m) => Number(m[1]));
  assert.deepEqual(listed, Array.from({ length: NETCRAQ_P4_WORDS }, (_, i) => i));
  assert.match(ingress, /WORDS\(VALUE_REG\)/);
  for (const k of listed) regs.set(`craq_value_w${k}`, Number(words[1]));
  assert.deepEqual(Object.fromEntries([...regs].sort()), Object.fromEntries(Object.entries(NETCRAQ_P4_REGISTERS).sort()));
  assert.equal(defines.get('CRAQ_P4_WORDS'), NETCRAQ_P4_WORDS);
  assert.deepEqual([...ingress.matchAll(/Counter<[^>]*>, bit<\d+>>\([^;]*\) (\w+);/g)].map((m) => m[1]).sort(), [...NETCRAQ_P4_COUNTERS].sort());
  assert.deepEqual([...ingress.matchAll(/Digest<\w+>\(\) (\w+);/g)].map((m) => m[1]), [...NETCRAQ_P4_DIGESTS]);
  assert.equal(p4RuntimeName('craq_keys'), 'NetCraqIngress.craq_keys');
});

test('craq_t and craq_trailer_t have the codec layout, field by field', () => {
  for (const [p4Header, layoutName] of Object.entries(NETCRAQ_P4_HEADERS)) {
    const body = P4.match(new RegExp(`header ${p4Header} \\{([\\s\\S]*?)\\}`))?.[1] ?? '';
    const widths: Record<string, number> = { mac_addr_t: 48 };
    let bit = 0;
    const offsets: Record<string, number> = {};
    for (const m of body.matchAll(/(?:bit<(\d+)>|(mac_addr_t)) (\w+);/g)) {
      assert.equal(bit % 8, 0, `${p4Header}.${m[3]} starts on a byte`);
      offsets[m[3]!] = bit / 8;
      bit += m[1] ? Number(m[1]) : widths[m[2]!]!;
    }
    const layout = CRAQ_LAYOUTS[layoutName];
    assert.deepEqual(offsets, layout.members, p4Header);
    assert.equal(bit / 8, layout.size, `${p4Header} size`);
  }
  assert.equal(defines.get('CRAQ_MAGIC'), craq.CRAQ_MAGIC);
  assert.equal(defines.get('CRAQ_PORT'), craq.CRAQ_DEFAULT_PORT);
});

test('op, status, flag and reason constants are the wire and C values', () => {
  for (const [name, v] of Object.entries(craq.CraqOp)) if (v < 0x80) assert.equal(defines.get(`OP_${name}`), v, name);
  for (const s of ['OK', 'NOT_FOUND', 'NOT_PLACED', 'NOT_HEAD', 'RETRY'] as const) assert.equal(defines.get(`ST_${s}`), craq.CraqStatus[s], s);
  for (const [name, v] of Object.entries(craq.CraqFlag)) assert.equal(defines.get(`F_${name}`), v, name);
  for (const [name, how] of Object.entries(NETCRAQ_P4_REASONS)) {
    if (how !== 'drop_reason' && how !== 'pass_to_cpu') continue;
    assert.equal(defines.get(`R_${name}`), CRAQ_REASON[name as keyof typeof CRAQ_REASON], name);
    assert.ok(apply.includes(`${how}(R_${name})`), `apply realises ${name} with ${how}`);
  }
});

test('every decision of the model maps onto a P4 action that the apply block takes (NetChain mode: its own for the tail\'s answer and retries)', () => {
  assert.deepEqual(Object.keys(NETCRAQ_P4_MODEL_ACTIONS).sort(), Object.keys(CRAQ_STAT).sort());
  const actions = [...Object.values(NETCRAQ_P4_MODEL_ACTIONS), ...NETCRAQ_P4_NETCHAIN_ACTIONS];
  for (const action of actions) assert.match(apply, new RegExp(`\\b${action}\\(\\)`), action);
  const seen = new Set<string>();
  const seenActions = new Set<string>();
  for (const fx of craqFixtures()) {
    const step = craqStep(fx.state, fx.frame);
    if (step.stat) {
      const action = netcraqP4Action(step.stat, fx.state.config);
      assert.ok(actions.includes(action), `${fx.name}: ${step.stat} -> ${action}`);
      seen.add(step.stat);
      seenActions.add(action);
    }
    if (step.reason) assert.ok(NETCRAQ_P4_REASONS[step.reason], `${fx.name}: ${step.reason}`);
  }
  assert.deepEqual([...seen].sort(), Object.keys(CRAQ_STAT).sort(), 'the fixtures reach every decision');
  assert.deepEqual([...seenActions].sort(), [...new Set(actions)].sort(), 'the fixtures reach every action of a decision, in both modes');
});
