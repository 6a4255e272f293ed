/**
 * Prometheus metrics of bgp-announcer: session state, messages in and out by type, prefixes
 * sent and received, flaps, BFD state and local routes (configuration reloads are the daemon
 * host's, @netaccel/daemon).
 */
import type { Metrics } from '@netaccel/telemetry';
import type { BgpState } from './fsm.js';
import type { Speaker } from './speaker.js';

/** The values of the `state` label of `bgp_session_state` and `bfd_session_state`, in FSM order. */
export const BGP_STATES: readonly BgpState[] = ['idle', 'connect', 'active', 'open-sent', 'open-confirm', 'established'];
export const BFD_STATES: readonly string[] = ['admin-down', 'down', 'init', 'up'];

export function registerMetrics(metrics: Metrics, speaker: Speaker): void {
  // A state set (the Prometheus convention for an enum): one series per state, 1 for the current one.
  metrics.gauge({
    name: 'bgp_session_state',
    help: 'BGP FSM state per peer: 1 for the current state (idle, connect, active, open-sent, open-confirm, established), 0 for the others',
    labelNames: ['peer', 'state'],
    collect() {
      this.reset();
      for (const [a, e] of speaker.peers) for (const state of BGP_STATES) this.set({ peer: a, state }, e.peer.state === state ? 1 : 0);
    },
  });
  metrics.gauge({
    name: 'bgp_session_established',
    help: '1 when the session with the peer is established',
    labelNames: ['peer'],
    collect() {
      this.reset();
      for (const [a, e] of speaker.peers) this.set({ peer: a }, e.peer.state === 'established' ? 1 : 0);
    },
  });
  metrics.gauge({
    name: 'bgp_prefixes_sent',
    help: 'Prefixes in the Adj-RIB-Out of the peer',
    labelNames: ['peer'],
    collect() {
      this.reset();
      for (const [a, e] of speaker.peers) this.set({ peer: a }, e.ribOut?.size ?? 0);
    },
  });
  metrics.gauge({
    name: 'bgp_prefixes_received',
    help: 'Prefixes in the Adj-RIB-In of the peer',
    labelNames: ['peer'],
    collect() {
      this.reset();
      for (const [a, e] of speaker.peers) this.set({ peer: a }, e.ribIn.size);
    },
  });
  metrics.gauge({
    name: 'bgp_routes_announced',
    help: 'Routes this node announces (local RIB)',
    collect() {
      this.set(speaker.routeCount);
    },
  });
  metrics.gauge({
    name: 'bfd_session_state',
    help: 'BFD session state per peer: 1 for the current state (admin-down, down, init, up), 0 for the others (absent without BFD)',
    labelNames: ['peer', 'state'],
    collect() {
      this.reset();
      for (const [a, e] of speaker.peers) if (e.bfdState !== undefined) for (const state of BFD_STATES) this.set({ peer: a, state }, e.bfdState === state ? 1 : 0);
    },
  });
  const messages = metrics.counter({ name: 'bgp_messages_total', help: 'BGP messages by peer, direction and type', labelNames: ['peer', 'direction', 'type'] });
  const flaps = metrics.counter({ name: 'bgp_session_flaps_total', help: 'Established sessions that went down', labelNames: ['peer'] });
  const transitions = metrics.counter({ name: 'bgp_state_transitions_total', help: 'FSM state changes by peer and new state', labelNames: ['peer', 'state'] });
  speaker.on('message', (m) => messages.inc({ peer: m.address, direction: m.direction, type: m.kind }));
  speaker.on('down', (d) => flaps.inc({ peer: d.address }));
  speaker.on('state', (c) => transitions.inc({ peer: c.address, state: c.next }));
}
