/**
 * What the lab calls things. Every namespace is `synack-<lab>-<host>`, so `ip netns list`
 * tells at a glance what is ours, and a crashed lab can be found again by its prefix alone.
 * Names are short lowercase words: an interface name inside the router is `eth-<host>` and
 * must fit Linux's 15-character limit.
 */
import { mkdirSync, accessSync, constants, lstatSync } from 'node:fs';
import { usageError } from '../wire/errors.js';

export const DEFAULT_LAB = 'lab';
export const ROUTER = 'router';
const WORD = /^[a-z][a-z0-9]{0,9}$/;
const NS = /^synack-([a-z][a-z0-9]{0,9})-([a-z][a-z0-9]{0,9})$/;

export function checkLabName(name: string): string {
  if (typeof name !== 'string' || !WORD.test(name)) throw usageError(`lab name ${quoted(name)} is not allowed: use 1-10 lowercase letters and digits, starting with a letter (e.g. --name lab2)`);
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
