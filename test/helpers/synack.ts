/**
 * Loads synack for the oracle, round-trip and fuzz tests: the public index, then every layer
 * module (so a protocol registers itself even before index.ts re-exports it), and finds the
 * text-form parser `packet(expr)` wherever it is exported from.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Packet } from '../../src/packet/packet.js';
import { dissect as dissectFn } from '../../src/packet/dissect.js';
import { layerByName } from '../../src/layers/registry.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

export type PacketParser = (expr: string) => Packet;

export interface Synack {
  /** The text-form parser, or undefined when no module exports it yet. */
  packet: PacketParser | undefined;
  dissect: typeof dissectFn;
  /** Whether synack has registered a layer by this (Scapy) name. */
  has: (name: string) => boolean;
}

function tsModules(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(dir, f));
}

let loaded: Promise<Synack> | undefined;

export function loadSynack(): Promise<Synack> {
  return (loaded ??= load());
}

async function load(): Promise<Synack> {
  const index = (await import('../../src/index.js')) as Record<string, unknown>;
  for (const file of tsModules(join(SRC, 'layers'))) await import(pathToFileURL(file).href);
  await import('../../src/packet/link-types.js');
  let packet = typeof index.packet === 'function' ? (index.packet as PacketParser) : undefined;
  if (!packet) {
    for (const file of tsModules(join(SRC, 'packet', 'text'))) {
      const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      if (typeof mod.packet === 'function') {
        packet = mod.packet as PacketParser;
        break;
      }
    }
  }
  return { packet, dissect: dissectFn, has: (name) => layerByName(name) !== undefined };
}
