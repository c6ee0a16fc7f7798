/**
 * Every error of opening, reading or writing a file as one line that names the file and the
 * cause: `cannot read x.pcap: too many levels of symbolic links (a loop?)`. A cause the user
 * can fix in the path they typed is a usage error (exit 2); one of the machine (EIO, ENOSPC,
 * EMFILE) is a system error (exit 1). One home for this, used by pcap reading and writing and
 * by every file the CLI opens.
 */
import { printable, SynackError } from './errors.js';

export type FileAction = 'read' | 'write';

/** The cause, in words, of each errno a file operation can give; `true` marks the machine's (exit 1). */
const CAUSES: Record<string, [text: string, machine?: true]> = {
  EACCES: ['permission denied'],
  EPERM: ['permission denied'],
  EISDIR: ['it is a directory'],
  ENOTDIR: ['a part of the path is not a directory'],
  ENAMETOOLONG: ['the name is too long (at most 255 bytes a component, 4095 a path)'],
  ELOOP: ['too many levels of symbolic links (a loop?)'],
  EEXIST: ['it already exists'],
  EROFS: ['the file system is read-only'],
  ENXIO: ['no such device or address'],
  ENODEV: ['no such device'],
  ETXTBSY: ['the file is busy'],
  EINVAL: ['this kind of file cannot be used here (invalid argument)'],
  EFBIG: ['the file is too large'],
  EIO: ['input/output error', true],
  ENOSPC: ['no space left on the device', true],
  EDQUOT: ['the disk quota is exceeded', true],
  EMFILE: ['too many open files in this process', true],
  ENFILE: ['too many open files on this system', true],
  ENOMEM: ['out of memory', true],
  EBUSY: ['the device or resource is busy', true],
};

/** The errno code of a Node file error, if it is one. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/**
 * The one-line error for `err` from `action` on `file`. `what` names the kind of file in the
 * messages that need it ('capture file' gives "it is a directory, not a capture file").
 */
export function fileError(file: string, err: unknown, action: FileAction, what?: string): SynackError {
  if (err instanceof SynackError) return err;
  const code = errnoCode(err);
  const shown = printable(file);
  if (code === 'ENOENT') {
    return new SynackError(action === 'write' ? `cannot write ${shown}: its directory does not exist` : `no such file: ${shown}`, 'usage');
  }
  const known = code !== undefined ? CAUSES[code] : undefined;
  let cause: string;
  if (known) cause = code === 'EISDIR' && what ? `${known[0]}, not a ${what}` : known[0];
  else cause = causeFromMessage(err, file);
  const error = new SynackError(`cannot ${action} ${shown}: ${cause}`, known?.[1] ? 'system' : 'usage');
  if (known?.[1]) error.exitCode = 1;
  return error;
}

/** Node's message without its "CODE: " prefix and the path it repeats. */
function causeFromMessage(err: unknown, file: string): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^E[A-Z0-9]+: /, '').replace(`, open '${file}'`, '').replace(/, \w+ '.*'$/s, '').split('\n')[0]!;
}
