/**
 * Capture filters as a library: pcap-filter(7) expressions compiled to straight-line code over
 * a frame's bytes (compile.ts), for files (readPackets(path, { filter }), `synack read`) and for
 * diagnosing the filters live captures hand to libpcap. The cap addon compiles filters only on
 * live handles (pcap_compile on an open device), so files are filtered here.
 *
 *   const f = compileFilter('tcp port 80 and host 127.0.0.1');
 *   f(rec.data, rec.origLen, rec.linkType)          // true when the frame matches
 *   f.forLinkType(1)(buf, off, caplen, wireLength)  // the same test without a slice per frame
 *
 * Each compiled filter holds its own state (the code made for each link type it met): two
 * filters never share anything.
 */
import { parseFilter, programFor, programSource, type FilterProgram, type FrameTest } from './compile.js';

export type { FrameTest } from './compile.js';

/** A compiled filter: does this frame (captured bytes, length on the wire, link type) match? */
export interface CompiledFilter {
  (data: Buffer, wireLength: number, linkType: number): boolean;
  /** The expression it was compiled from. */
  readonly text: string;
  /** The test for frames of one link type, reading buf[off, off + caplen) in place. */
  forLinkType(linkType: number): FrameTest;
  /** The generated JavaScript for one link type (what runs per packet), for diagnosis. */
  source(linkType: number): string;
}

/** Same as CompiledFilter's call signature; the name the CLI used before the filter moved here. */
export type FramePredicate = (data: Buffer, wireLength: number, linkType: number) => boolean;

const matchAll: FrameTest = () => true;

/**
 * Compiles a filter; '' matches everything. Mistakes are usage errors naming the column, in
 * one line with a way out (`bad filter 'tcp prot 80': unknown word 'prot' (did you mean 'port'?)`).
 */
export function compileFilter(text: string): CompiledFilter {
  const trimmed = text.trim();
  const program: FilterProgram | undefined = trimmed === '' ? undefined : parseFilter(trimmed);
  const perLinkType = new Map<number, FrameTest>();
  let lastLinkType = -1;
  let lastTest: FrameTest = matchAll;
  const forLinkType = (linkType: number): FrameTest => {
    if (!program) return matchAll;
    let test = perLinkType.get(linkType);
    if (!test) perLinkType.set(linkType, (test = programFor(program, linkType)));
    return test;
  };
  const filter = ((data: Buffer, wireLength: number, linkType: number): boolean => {
    if (linkType !== lastLinkType) {
      lastTest = forLinkType(linkType);
      lastLinkType = linkType;
    }
    return lastTest(data, 0, data.length, wireLength);
  }) as CompiledFilter;
  Object.defineProperties(filter, {
    text: { value: trimmed },
    forLinkType: { value: forLinkType },
    source: { value: (linkType: number) => (program ? programSource(program, linkType) : 'return () => true;') },
  });
  return filter;
}
