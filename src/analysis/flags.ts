/**
 * Wireshark's TCP analysis flags (`tcp.analysis.*`): one bit each, with the words Wireshark
 * shows in its Info column and its expert messages, so a user can search for either.
 */

export const Flag = {
  RETRANSMISSION: 0x0001,
  LOST_PACKET: 0x0002,
  ACK_LOST_PACKET: 0x0004,
  KEEP_ALIVE: 0x0008,
  DUPLICATE_ACK: 0x0010,
  ZERO_WINDOW: 0x0020,
  ZERO_WINDOW_PROBE: 0x0040,
  ZERO_WINDOW_PROBE_ACK: 0x0080,
  KEEP_ALIVE_ACK: 0x0100,
  OUT_OF_ORDER: 0x0200,
  FAST_RETRANSMISSION: 0x0400,
  WINDOW_UPDATE: 0x0800,
  WINDOW_FULL: 0x1000,
  REUSED_PORTS: 0x2000,
  SPURIOUS_RETRANSMISSION: 0x4000,
} as const;

export type FlagName =
  | 'retransmission'
  | 'fast_retransmission'
  | 'spurious_retransmission'
  | 'out_of_order'
  | 'lost_segment'
  | 'ack_lost_segment'
  | 'duplicate_ack'
  | 'zero_window'
  | 'zero_window_probe'
  | 'zero_window_probe_ack'
  | 'window_full'
  | 'window_update'
  | 'keep_alive'
  | 'keep_alive_ack'
  | 'reused_ports';

interface FlagInfo {
  bit: number;
  /** The tcp.analysis.<field> name. */
  field: FlagName;
  /** What Wireshark's Info column shows, in brackets. */
  label: string;
  /** Wireshark's expert message (`_ws.expert.message`). */
  expert: string;
}

/** In the order Wireshark prints them in the Info column (first printed = outermost). */
export const FLAGS: readonly FlagInfo[] = [
  { bit: Flag.REUSED_PORTS, field: 'reused_ports', label: 'TCP Port numbers reused', expert: 'A new tcp session is started with the same ports as an earlier session in this trace' },
  { bit: Flag.LOST_PACKET, field: 'lost_segment', label: 'TCP Previous segment not captured', expert: 'Previous segment(s) not captured (common at capture start)' },
  { bit: Flag.ACK_LOST_PACKET, field: 'ack_lost_segment', label: 'TCP ACKed unseen segment', expert: "ACKed segment that wasn't captured (common at capture start)" },
  { bit: Flag.KEEP_ALIVE, field: 'keep_alive', label: 'TCP Keep-Alive', expert: 'TCP keep-alive segment' },
  { bit: Flag.KEEP_ALIVE_ACK, field: 'keep_alive_ack', label: 'TCP Keep-Alive ACK', expert: 'ACK to a TCP keep-alive segment' },
  { bit: Flag.WINDOW_UPDATE, field: 'window_update', label: 'TCP Window Update', expert: 'TCP window update' },
  { bit: Flag.WINDOW_FULL, field: 'window_full', label: 'TCP Window Full', expert: 'TCP window specified by the receiver is now completely full' },
  { bit: Flag.ZERO_WINDOW, field: 'zero_window', label: 'TCP ZeroWindow', expert: 'TCP Zero Window segment' },
  { bit: Flag.ZERO_WINDOW_PROBE, field: 'zero_window_probe', label: 'TCP ZeroWindowProbe', expert: 'TCP Zero Window Probe' },
  { bit: Flag.ZERO_WINDOW_PROBE_ACK, field: 'zero_window_probe_ack', label: 'TCP ZeroWindowProbeAck', expert: 'ACK to a TCP Zero Window Probe' },
  { bit: Flag.DUPLICATE_ACK, field: 'duplicate_ack', label: 'TCP Dup ACK', expert: 'Duplicate ACK' },
  { bit: Flag.RETRANSMISSION, field: 'retransmission', label: 'TCP Retransmission', expert: 'This frame is a (suspected) retransmission' },
  { bit: Flag.FAST_RETRANSMISSION, field: 'fast_retransmission', label: 'TCP Fast Retransmission', expert: 'This frame is a (suspected) fast retransmission' },
  { bit: Flag.SPURIOUS_RETRANSMISSION, field: 'spurious_retransmission', label: 'TCP Spurious Retransmission', expert: 'This frame is a (suspected) spurious retransmission' },
  { bit: Flag.OUT_OF_ORDER, field: 'out_of_order', label: 'TCP Out-Of-Order', expert: 'This frame is a (suspected) out-of-order segment' },
];

/**
 * The tcp.analysis fields a mask sets, in FLAGS order. As in Wireshark, a fast or spurious
 * retransmission is a retransmission too (both fields are present).
 */
export function flagNames(bits: number): FlagName[] {
  const out: FlagName[] = [];
  if (bits === 0) return out;
  if (bits & (Flag.FAST_RETRANSMISSION | Flag.SPURIOUS_RETRANSMISSION)) bits |= Flag.RETRANSMISSION;
  for (const f of FLAGS) if (bits & f.bit) out.push(f.field);
  return out;
}

/** Wireshark's Info-column words for a mask: 'TCP Dup ACK 5#3', 'TCP Retransmission'. */
export function flagLabels(bits: number, dupAckFrame = 0, dupAckNum = 0): string[] {
  const out: string[] = [];
  if (bits === 0) return out;
  for (const f of FLAGS) {
    if (!(bits & f.bit)) continue;
    out.push(f.bit === Flag.DUPLICATE_ACK ? `TCP Dup ACK ${dupAckFrame}#${dupAckNum}` : f.label);
  }
  return out;
}
