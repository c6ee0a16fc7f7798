/**
 * What the lab calls things. Every namespace is `synack-<lab>-<host>`, so `ip netns list`
 * tells at a glance what is ours, and a crashed lab can be found again by its prefix alone.
 * Names are short lowercase words: an interface name inside the router is `eth-<host>` and
 * must fit Linux's 15-character limit.
 */
import { mkdirSync, accessSync, constants } from 'node:fs';
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

/**
 * Where lab state files live: /run/synack (tmpfs, gone at reboot like the namespaces it
 * describes), or /tmp/synack when /run is not writable.
 */
export function stateDir(): string {
  if (dir) return dir;
  for (const candidate of ['/run/synack', '/tmp/synack']) {
    try {
      mkdirSync(candidate, { recursive: true, mode: 0o755 });
      accessSync(candidate, constants.W_OK);
      return (dir = candidate);
    } catch {
      // Try the next one.
    }
  }
  throw usageError('no writable place for lab state: /run/synack and /tmp/synack both failed (run as root)');
}
