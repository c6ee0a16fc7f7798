/**
 * The capture filter moved below the CLI, to src/pcap/filter/ (a library: compileFilter(),
 * readPackets(path, { filter })). This re-export keeps callers of the old path working.
 */
export { compileFilter, type CompiledFilter, type FramePredicate } from '../pcap/filter/index.js';
