import { chmodSync, fchmodSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';
import { MmaerecError } from '../errors.js';
import { makeDirs } from '../util/make-dirs.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Log file; default stderr (stdout stays free for records). */
  file?: string;
}

/** Why a path cannot be opened, in words (the errno code alone, e.g. EEXIST from mkdir, misleads). */
function whyNot(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EEXIST':
    case 'ENOTDIR':
      return `${err.code}: a part of its folder path is a file, not a folder`;
    case 'EACCES':
    case 'EPERM':
      return `${err.code}: permission denied`;
    case 'EISDIR':
      return 'EISDIR: it is a folder';
    case 'EROFS':
      return 'EROFS: read-only file system';
    default:
      return err.code ?? (err.message || 'error').split('\n')[0]!;
  }
}

/**
 * Creates the log file's folder and opens the file for appending; throws E_CONFIG naming `field` and the fix.
 * Returns the file descriptor and whether the file (and which folders) had to be created, so that
 * `run --check` can remove what it made.
 */
export function openLogFile(
  file: string,
  field = 'logging.file',
  fix = `give a writable file path, or remove ${field} to log to stderr`,
): { fd: number; createdDirs: string[]; createdFile: boolean } {
  let createdDirs: string[] = [];
  try {
    // Explicit modes (0700 folders, 0600 file), chmod'ed since open/mkdir modes are masked by the umask.
    // makeDirs, not mkdirSync({ recursive }): that one never returns for a folder under /proc.
    createdDirs = makeDirs(dirname(file), 0o700);
    for (const d of createdDirs) chmodSync(d, 0o700);
    let createdFile = false;
    let fd: number;
    try {
      fd = openSync(file, 'ax', 0o600);
      fchmodSync(fd, 0o600);
      createdFile = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      fd = openSync(file, 'a');
    }
    return { fd, createdDirs, createdFile };
  } catch (err) {
    throw new MmaerecError(
      'E_CONFIG',
      `${field} ${JSON.stringify(file)} cannot be opened for appending (${whyNot(err as NodeJS.ErrnoException)}): ${fix}`,
    );
  }
}

/**
 * Structured JSON logs (pino). Synchronous destination: nothing is lost when the process exits on a signal.
 * A log file that cannot be opened is an E_CONFIG (one line); a write that fails later (disk full) is reported
 * once on stderr and the process goes on.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.file
    ? pino.destination({ fd: openLogFile(options.file).fd, sync: true })
    : pino.destination({ fd: 2, sync: true });
  let reported = false;
  destination.on('error', (err: NodeJS.ErrnoException) => {
    if (reported) return;
    reported = true;
    process.stderr.write(`mmaerec-edge: cannot write the log${options.file ? ` ${options.file}` : ''} (${whyNot(err)}): free space or fix the permissions; log lines are lost until then\n`);
  });
  return pino({ name: 'mmaerec-edge', level: options.level ?? 'info' }, destination);
}
