/**
 * What the lab calls things. Every namespace is `synack-<lab>-<host>`, so `ip netns list`
 * tells at a glance what is ours, and a crashed lab can be found again by its prefix alone.
 * Names are short lowercase words: an interface name inside the router is `eth-<host>` and
 * must fit Linux's 15-character limit.
 */
import { mkdirSync, accessSync, constants, lstatSync, readdirSync, statSync } from 'node:fs';
import { usageError } from '../wire/errors.js';
import { readState } from './state.js';

export const DEFAULT_LAB = 'lab';
export const ROUTER = 'router';
const WORD = /^[a-z][a-z0-9]{0,9}$/;
const NS = /^synack-([a-z][a-z0-9]{0,9})-([a-z][a-z0-9]{0,9})$/;

export function checkLabName(name: string): string {
  if (typeof name !== 'string' || !WORD.test(name)) throw usageError(`lab name ${quoted(name)} is not allowed: use 1-10 lowercase letters and digits, starting with a letter (e.g. --lab lab2)`);
  return name;
}

export function checkHostName(name: string): string {
  if (typeof name !== 'string' || !WORD.test(name)) throw usageError(`host name ${quoted(name)} is not allowed: use 1-10 lowercase letters and digits, starting with a letter (e.g. --hosts client,server,router)`);
  return name;
}

/** A name as the message shows it: quoted, escaped (a newline stays on the one line), and cut short. */
function quoted(name: unknown): string {
  const text = String(name);
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text).replace(/^"|"$/g, "'");
}

/** The namespace of one host of a lab. */
export function nsName(lab: string, host: string): string {
  return `synack-${lab}-${host}`;
}

/** The lab and host a namespace name stands for, or undefined when it is not a lab namespace. */
export function parseNsName(ns: string): { lab: string; host: string } | undefined {
  const m = NS.exec(ns);
  return m ? { lab: m[1]!, host: m[2]! } : undefined;
}

let dir: string | undefined;

const STATE_DIR = '/run/synack';

/**
 * Where lab state files live: /run/synack (tmpfs, gone at reboot like the namespaces it
 * describes). Only there, and only when it is a real directory of ours that nobody else can
 * write: the files name pids that `lab down` signals, so a place others can plant files in
 * (/tmp) is never used.
 */
export function stateDir(): string {
  if (dir) return dir;
  try {
    mkdirSync(STATE_DIR, { recursive: true, mode: 0o755 });
    const st = lstatSync(STATE_DIR);
    const uid = process.getuid?.() ?? 0;
    if (!st.isDirectory()) throw new Error('it is not a directory (a symlink?)');
    if (st.uid !== uid) throw new Error(`it belongs to uid ${st.uid}, not to us (uid ${uid})`);
    if ((st.mode & 0o022) !== 0) throw new Error('others can write to it');
    accessSync(STATE_DIR, constants.W_OK);
  } catch (err) {
    throw usageError(`no safe place for lab state: ${STATE_DIR}: ${(err as Error).message} (the lab runs as root)`);
  }
  return (dir = STATE_DIR);
}

/**
 * The lab and host this process runs in, told by its network namespace: the one whose
 * /run/netns entry is the same namespace as /proc/self/ns/net. Undefined outside a lab.
 */
export function currentLabHost(): { lab: string; host: string } | undefined {
  let self: { dev: number; ino: number };
  let entries: string[];
  try {
    self = statSync('/proc/self/ns/net');
    entries = readdirSync('/run/netns');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    const parsed = parseNsName(entry);
    if (!parsed) continue;
    try {
      const st = statSync(`/run/netns/${entry}`);
      if (st.ino === self.ino && st.dev === self.dev) return parsed;
    } catch {
      // A namespace removed while we looked.
    }
  }
  return undefined;
}

/**
 * The address of lab host `name` (IPv4 unless `family` is 6), for a command run inside the
 * lab (`synack lab exec client -- synack handshake server:7000`). A name that is no host of
 * the lab, or any name outside a lab, is a usage error saying so.
 */
export function labHostAddress(name: string, family: 4 | 6 = 4, what = 'host'): string {
  const here = WORD.test(name) ? currentLabHost() : undefined;
  if (!here) throw usageError(`bad ${what} ${quoted(name)}: give an IPv4 or IPv6 address such as 127.0.0.1 or ::1 (names are resolved only for lab hosts, inside a lab)`);
  const plan = readState(here.lab)?.plan;
  const host = plan?.hosts.find((h) => h.name === name);
  if (!host) throw usageError(`lab '${here.lab}' has no host ${quoted(name)}${plan ? `: its hosts are ${plan.hosts.map((h) => h.name).join(', ')}` : ''}`);
  // Seen from a host on the same link, the router's address on that link; otherwise its first.
  const mine = plan!.hosts.find((h) => h.name === here.host);
  const iface = host.ifaces.find((i) => mine?.ifaces.some((m) => m.peer.host === host.name && m.peer.v4 === i.v4)) ?? host.ifaces[0];
  if (!iface) throw usageError(`lab host '${name}' has no address`);
  return family === 6 ? iface.v6 : iface.v4;
}
