// @netaccel/bpf-programs/selftest/testing: the selftest program's fixtures (packets and the
// verdicts and counters they must give), its counter layout and decoder, for libs/bpf's BPF
// tests, the loader's end-to-end tests and its benchmark. Names are re-exported one by one.
export type { SelftestCounter, SelftestFixture, XdpVerdictName } from './selftest.fixtures.js';
export {
  SELFTEST_COUNTER_LAYOUT,
  SELFTEST_DEFAULT_DROP_PORT,
  SELFTEST_VERDICTS,
  XDP_VERDICT,
  decodeSelftestCounter,
  expectedCounters,
  internetChecksum,
  selftestFixtures,
} from './selftest.fixtures.js';
