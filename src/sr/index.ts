/** The wire's public face: send, sendp, sniff, sr, sr1. */
export { send, sendp, type SendOptions } from './send.js';
export { sniff, Sniffer, type SniffOptions } from './sniff.js';
export { sr, sr1, type SrOptions, type SrResult, type Answer } from './sr.js';
export { matchKey, isAnswer } from './match.js';
export type { PacketInput } from './prepare.js';
