/**
 * Errors about capture files. Every message names the file, and a damaged file also names the
 * byte offset where the damage starts, so that `dd`/`xxd` can take the user straight there.
 * They are usage errors: the CLI prints the one line and exits 2, without a stack.
 */
import { SynackError } from '../wire/errors.js';

/** A capture file that is cut short or holds bytes that cannot be a record. */
export class CaptureFileError extends SynackError {
  /** The file as the user named it. */
  readonly file: string;
  /** Byte offset (from the start of the file) of the record or block that is damaged. */
  readonly offset: number;
  constructor(file: string, offset: number, message: string) {
    super(message, 'usage');
    this.name = 'CaptureFileError';
    this.file = file;
    this.offset = offset;
  }
}

/** The file ends in the middle of a header, record or block. */
export function truncatedCapture(file: string, offset: number, what: string, needed: number, available: number): CaptureFileError {
  return new CaptureFileError(
    file,
    offset,
    `truncated capture file ${file}: the ${what} at byte ${offset} needs ${needed} bytes, but the file ends after ${available}` +
      ' (every complete packet before it was read)',
  );
}

/** Bytes that cannot be what the format says comes next. */
export function corruptCapture(file: string, offset: number, problem: string): CaptureFileError {
  return new CaptureFileError(file, offset, `corrupt capture file ${file} at byte ${offset}: ${problem}`);
}

/** The first bytes match neither pcap magic nor a pcapng section header. */
export function notACaptureFile(file: string, head: Buffer): SynackError {
  if (head.length === 0) return new SynackError(`not a pcap or pcapng file: ${file} (it is empty)`, 'usage');
  const shown = [...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  // The usual mistakes get their way out spelled out.
  let hint = '';
  if (head[0] === 0x1f && head[1] === 0x8b) hint = '; it is gzip-compressed: gunzip it first';
  else if (head.subarray(0, 4).every((b) => b >= 0x20 && b < 0x7f)) hint = '; it looks like text, not a capture';
  return new SynackError(`not a pcap or pcapng file: ${file} (starts with ${shown})${hint}`, 'usage');
}

/** Turns the errors of opening a file into one line the user can act on. */
export function openError(file: string, err: unknown, writing = false): Error {
  const code = (err as NodeJS.ErrnoException)?.code;
  const verb = writing ? 'write' : 'read';
  switch (code) {
    case 'ENOENT':
      return new SynackError(writing ? `cannot write ${file}: its directory does not exist` : `no such file: ${file}`, 'usage');
    case 'EACCES':
    case 'EPERM':
      return new SynackError(`cannot ${verb} ${file}: permission denied`, 'usage');
    case 'EISDIR':
      return new SynackError(`cannot ${verb} ${file}: it is a directory, not a capture file`, 'usage');
    case 'ENOTDIR':
      return new SynackError(`cannot ${verb} ${file}: a part of the path is not a directory`, 'usage');
    case 'ENAMETOOLONG':
      return new SynackError(`cannot ${verb} ${shortName(file)}: the name is too long for the file system`, 'usage');
    case 'ELOOP':
      return new SynackError(`cannot ${verb} ${shortName(file)}: too many levels of symbolic links`, 'usage');
    default: {
      // Any other file-system refusal (EIO, ENXIO, EROFS, ENOSPC...) is still one line naming the
      // file and the cause; only what is not an errno at all stays an internal error.
      if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) {
        const cause = String((err as Error).message ?? code).replace(/^[A-Z0-9]+: /, '').replace(/, \w+( '.*')?$/s, '');
        return new SynackError(`cannot ${verb} ${shortName(file)}: ${cause} (${code})`, 'system');
      }
      return err instanceof Error ? err : new Error(String(err));
    }
  }
}

/** A file name for a message: a 300-character one is cut, so the message stays one short line. */
function shortName(file: string): string {
  return file.length > 80 ? `${file.slice(0, 60)}... (${file.length} characters)` : file;
}
