/**
 * The --explain line under a packet line, shared by read, sniff and the commands that print a
 * conversation: the flags in Wireshark's words, the note, both endpoints' states.
 *
 *       [TCP Dup ACK 5#3] duplicate ACK #3: server is missing 2897:4345  (client ESTABLISHED, server ESTABLISHED)
 */
import { Analyzer, Explainer, type FrameInput } from '../analysis/index.js';

export interface ExplainLines {
  /** The note line for a frame (undefined when it is not TCP). Frames must come in order. */
  line(frame: FrameInput): string | undefined;
}

export function formatExplanation(labels: readonly string[], note: string, client: string, server: string): string {
  const tail = '  (client ' + client + ', server ' + server + ')';
  return labels.length ? '      [' + labels.join('] [') + '] ' + note + tail : '      ' + note + tail;
}

export async function createExplainLines(): Promise<ExplainLines> {
  const analyzer = new Analyzer();
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
