/**
 * The --explain line under a packet line, shared by read, sniff and the commands that print a
 * conversation: the flags in Wireshark's words, the note, both endpoints' states.
 *
 *       [TCP Dup ACK 5#3] duplicate ACK #3: server is missing 2897:4345  (client ESTABLISHED, server ESTABLISHED)
 */
import { Analyzer, Explainer, formatExplanation, frameOf, type FrameInput } from '../analysis/index.js';
import type { Packet } from '../packet/packet.js';

export interface ExplainLines {
  /** The note line for a frame (undefined when it is not TCP). Frames must come in order. */
  line(frame: FrameInput): string | undefined;
}

export { formatExplanation };

export async function createExplainLines(): Promise<ExplainLines> {
  return explainLines();
}

/** The same, synchronously. */
export function explainLines(): ExplainLines {
  // Each result is done with before the next frame: one object, filled again.
  const analyzer = new Analyzer({ reuseResult: true });
  const explainer = new Explainer(analyzer);
  return {
    line(frame) {
      const s = analyzer.add(frame);
      if (!s) return undefined;
      const e = explainer.explain(s);
      return formatExplanation(e.labels, e.note, e.client, e.server);
    },
  };
}

/**
 * Notes for packets as a conversation makes them (synack handshake, synack script): the
 * packets of one conversation, in order.
 */
export function packetExplainer(): (packet: Packet) => string | undefined {
  const lines = explainLines();
  return (packet) => lines.line(frameOf(packet));
}
