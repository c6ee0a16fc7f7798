/**
 * The display module: installs summary(), show() and hexdump() on Packet (packet/ cannot
 * import show/, which sits above it) and exports the capture printer.
 */
import { packetHooks } from '../packet/packet.js';
import { summary } from './summary.js';
import { show } from './show.js';
import { hexdump } from './hexdump.js';
import { layerRepr, packetRepr } from './repr.js';
import { layerHooks } from '../layers/layer.js';

packetHooks.summary = summary;
packetHooks.show = show;
packetHooks.hexdump = hexdump;
packetHooks.repr = packetRepr;
layerHooks.repr = layerRepr;

export { createPrinter, type Printer, type PrinterOptions, type CapturedFrame } from './printer.js';
export { summary } from './summary.js';
export { show } from './show.js';
export { hexdump, hexdumpBytes } from './hexdump.js';
