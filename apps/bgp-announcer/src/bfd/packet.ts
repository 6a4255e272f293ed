/**
 * BFD Control packets (RFC 5880 §4.1), without authentication: encode, decode and the reception
 * checks of §6.8.6 that do not need session state. A packet that fails them is discarded
 * (`decodeControl` answers a string saying why).
 */

export type BfdStateName = 'admin-down' | 'down' | 'init' | 'up';
export const STATES: readonly BfdStateName[] = ['admin-down', 'down', 'init', 'up'];

/** Diagnostic codes (RFC 5880 §4.1). */
export const Diag = {
  None: 0,
  ControlDetectionTimeExpired: 1,
  EchoFunctionFailed: 2,
  NeighborSignaledSessionDown: 3,
  ForwardingPlaneReset: 4,
  PathDown: 5,
  ConcatenatedPathDown: 6,
  AdministrativelyDown: 7,
} as const;

export const DIAG_TEXT: readonly string[] = [
  'no diagnostic',
  'control detection time expired',
  'echo function failed',
  'neighbor signaled session down',
  'forwarding plane reset',
  'path down',
  'concatenated path down',
  'administratively down',
];

export interface BfdControl {
  readonly diag: number;
  readonly state: BfdStateName;
  readonly poll: boolean;
  readonly final: boolean;
  readonly cpi: boolean;
  readonly demand: boolean;
  readonly detectMult: number;
  readonly myDiscriminator: number;
  readonly yourDiscriminator: number;
  /** µs */
  readonly desiredMinTx: number;
  /** µs */
  readonly requiredMinRx: number;
  /** µs */
  readonly requiredMinEchoRx: number;
}

export const BFD_VERSION = 1;
export const CONTROL_LENGTH = 24;

export function encodeControl(p: BfdControl): Buffer {
  const b = Buffer.alloc(CONTROL_LENGTH);
  b[0] = (BFD_VERSION << 5) | (p.diag & 0x1f);
  b[1] = (STATES.indexOf(p.state) << 6) | (p.poll ? 0x20 : 0) | (p.final ? 0x10 : 0) | (p.cpi ? 0x08 : 0) | (p.demand ? 0x02 : 0);
  b[2] = p.detectMult;
  b[3] = CONTROL_LENGTH;
  b.writeUInt32BE(p.myDiscriminator >>> 0, 4);
  b.writeUInt32BE(p.yourDiscriminator >>> 0, 8);
  b.writeUInt32BE(p.desiredMinTx >>> 0, 12);
  b.writeUInt32BE(p.requiredMinRx >>> 0, 16);
  b.writeUInt32BE(p.requiredMinEchoRx >>> 0, 20);
  return b;
}

/** Decodes a Control packet; a string says why it must be discarded (RFC 5880 §6.8.6). */
export function decodeControl(b: Buffer): BfdControl | string {
  if (b.length < CONTROL_LENGTH) return `packet of ${b.length} octets is shorter than ${CONTROL_LENGTH}`;
  const version = b[0]! >> 5;
  if (version !== BFD_VERSION) return `version ${version} is not 1`;
  const flags = b[1]!;
  const auth = (flags & 0x04) !== 0;
  const length = b[3]!;
  if (length < (auth ? 26 : CONTROL_LENGTH)) return `length field ${length} is too small`;
  if (length > b.length) return `length field ${length} exceeds the ${b.length} octets received`;
  if (auth) return 'authentication is not configured (A bit set)';
  const detectMult = b[2]!;
  if (detectMult === 0) return 'detect multiplier is 0';
  if ((flags & 0x01) !== 0) return 'multipoint bit set';
  const myDiscriminator = b.readUInt32BE(4);
  if (myDiscriminator === 0) return 'my discriminator is 0';
  const poll = (flags & 0x20) !== 0;
  const final = (flags & 0x10) !== 0;
  if (poll && final) return 'poll and final both set';
  return {
    diag: b[0]! & 0x1f,
    state: STATES[flags >> 6]!,
    poll,
    final,
    cpi: (flags & 0x08) !== 0,
    demand: (flags & 0x02) !== 0,
    detectMult,
    myDiscriminator,
    yourDiscriminator: b.readUInt32BE(8),
    desiredMinTx: b.readUInt32BE(12),
    requiredMinRx: b.readUInt32BE(16),
    requiredMinEchoRx: b.readUInt32BE(20),
  };
}
