/**
 * Prometheus metrics of bgp-announcer: session state, messages in and out by type, prefixes
 * sent and received, flaps, BFD state and local routes (configuration reloads are the daemon
 * host's, @netaccel/daemon).
 */
import type { Metrics } from '@netaccel/telemetry';
import type { BgpState } from './fsm.js';
import type { Speaker } from './speaker.js';

export const STATE_NUMBER: Readonly<Record<BgpState, number>> = { idle: 1, connect: 2, active: 3, 'open-sent': 4, 'open-confirm': 5, established: 6 };
export const BFD_NUMBER: Readonly<Record<string, number>> = { 'admin-down': 1, down: 2, init: 3, up: 4 };

export function registerMetrics(metrics: Metrics, speaker: Speaker): void {
  metrics.gauge({
    name: 'bgp_session_state',
    help: 'BGP FSM state per peer: 1 idle, 2 connect, 3 active, 4 open-sent, 5 open-confirm, 6 established',
    labelNames: ['peer'],
    collect() {
      this.reset();
      for (const [a, e] of speaker.peers) this.set({ peer: a }, STATE_NUMBER[e.peer.state]);
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
      this.set(speaker.routes().length);
    },
  });
  metrics.gauge({
    name: 'bfd_session_state',
    help: 'BFD session state per peer: 1 admin-down, 2 down, 3 init, 4 up (absent without BFD)',
    labelNames: ['peer'],
    collect() {
      this.reset();
      for (const [a, e] of speaker.peers) if (e.bfdState !== undefined) this.set({ peer: a }, BFD_NUMBER[e.bfdState] ?? 0);
    },
  });
  const messages = metrics.counter({ name: 'bgp_messages_total', help: 'BGP messages by peer, direction and type', labelNames: ['peer', 'direction', 'type'] });
  const flaps = metrics.counter({ name: 'bgp_session_flaps_total', help: 'Established sessions that went down', labelNames: ['peer'] });
  const transitions = metrics.counter({ name: 'bgp_state_transitions_total', help: 'FSM state changes by peer and new state', labelNames: ['peer', 'state'] });
  speaker.on('message', (m) => messages.inc({ peer: m.address, direction: m.direction, type: m.kind }));
  speaker.on('down', (d) => flaps.inc({ peer: d.address }));
  speaker.on('state', (c) => transitions.inc({ peer: c.address, state: c.next }));
}
