/**
 * Every file the CLI reads or writes goes through here, so that any error of the file
 * (missing, a directory, a loop, a name too long, EIO, a full disk...) is one line naming the
 * file and the cause (see wire/file-error.ts), never a stack. '-' is standard input.
 */
import { accessSync, constants, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileError } from '../wire/file-error.js';

/** The whole of a text file ('-': standard input). `what` names it in messages ('script'). */
export function readTextFile(path: string, what?: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw fileError(path === '-' ? 'standard input' : path, err, 'read', what);
  }
}

/** Writes (creates or replaces) a file. */
export function writeTextFile(path: string, text: string | Uint8Array, what?: string): void {
  try {
    writeFileSync(path, text);
  } catch (err) {
    throw fileError(path, err, 'write', what);
  }
}

/**
 * Fails now, with the same one line, when `path` could not be written later: for outputs that
 * are written only after minutes of work (a recorded script, a run's pcap).
 */
export function checkWritable(path: string, what?: string): void {
  try {
    const dir = dirname(path);
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(dir, constants.W_OK);
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  } catch (err) {
    throw fileError(path, err, 'write', what);
  }
}
