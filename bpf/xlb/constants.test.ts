/**
 * Unit: constants.ts against the C headers (xlb_kern_user.h, xlb_consts.h): enums, flags and
 * build-time defaults.
 */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { parseIPv6 } from '@netaccel/protocol';
import {
  XLB_BACKEND_F,
  XLB_BUILD_DEFAULTS,
  XLB_CT_STATE,
  XLB_DECAP_STAT,
  XLB_DECAP_STAT_MAX,
  XLB_FEAT,
  XLB_GLOBAL_DEFAULTS,
  XLB_MODE,
  XLB_NEXTHOP_F,
  XLB_VIP_F,
} from './constants.js';
import { headerText, parseDefines, parseEnum } from './header-text.js';

const kernUser = headerText('xlb_kern_user.h');
const consts = parseDefines(headerText('xlb_consts.h'));
const defines = parseDefines(kernUser);

function values(enumName: string): number[] {
  return parseEnum(kernUser, enumName).map((e) => e.value);
}

describe('constants match the headers', () => {
  test('enum xlb_mode', () => {
    assert.deepEqual(parseEnum(kernUser, 'xlb_mode').map((e) => e.name), ['XLB_MODE_NONE', 'XLB_MODE_L2_DSR', 'XLB_MODE_IPIP', 'XLB_MODE_GUE', 'XLB_MODE_NAT']);
    assert.deepEqual([0, ...Object.values(XLB_MODE)], values('xlb_mode'));
  });

  test('enum xlb_ct_state', () => {
    assert.deepEqual(Object.values(XLB_CT_STATE), values('xlb_ct_state'));
  });

  test('enum xlb_decap_stat', () => {
    assert.deepEqual([...Object.values(XLB_DECAP_STAT), XLB_DECAP_STAT_MAX], values('xlb_decap_stat'));
  });

  test('flags', () => {
    const flags = (prefix: string, table: Record<string, number>) => {
      for (const [k, v] of Object.entries(table)) assert.equal(defines.get(`${prefix}${k}`), v, `${prefix}${k}`);
    };
    flags('XLB_VIP_F_', XLB_VIP_F);
    flags('XLB_BACKEND_F_', XLB_BACKEND_F);
    flags('XLB_NEXTHOP_F_', XLB_NEXTHOP_F);
    flags('XLB_FEAT_', XLB_FEAT);
  });

  test('build-time defaults', () => {
    for (const [k, v] of Object.entries(XLB_BUILD_DEFAULTS)) assert.equal(consts.get(k), v, k);
  });

  test('defaults of the load-time globals', () => {
    const g = XLB_GLOBAL_DEFAULTS;
    assert.equal(consts.get('XLB_GUE_PORT'), g.gue_port);
    assert.equal(consts.get('XLB_ENCAP_SRC_V4'), g.encap_src_v4);
    assert.equal(consts.get('XLB_ENCAP_SRC_V4_LEN'), g.encap_src_v4_len);
    assert.equal(consts.get('XLB_ENCAP_SRC_V6_W0'), Buffer.from(parseIPv6(g.encap_src_v6)).readUInt32BE(0));
    assert.equal(consts.get('XLB_ENCAP_SRC_V6_LEN'), g.encap_src_v6_len);
    assert.equal(consts.get('XLB_NAT_PORT_MIN'), g.nat_port_min);
    assert.equal(consts.get('XLB_NAT_PORT_MAX'), g.nat_port_max);
    assert.equal(consts.get('XLB_NAT_TCP_TIME_WAIT_MS'), g.nat_tcp_time_wait_ms);
    assert.equal(consts.get('XLB_CT_TCP_SYN_TIMEOUT_MS'), g.ct_tcp_syn_timeout_ms);
    assert.equal(consts.get('XLB_CT_TCP_TIMEOUT_MS'), g.ct_tcp_timeout_ms);
    assert.equal(consts.get('XLB_CT_TCP_CLOSING_TIMEOUT_MS'), g.ct_tcp_closing_timeout_ms);
    assert.equal(consts.get('XLB_CT_UDP_TIMEOUT_MS'), g.ct_udp_timeout_ms);
  });
});
