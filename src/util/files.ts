import { chmod, mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MmaerecError } from '../errors.js';

/**
 * Files and folders the SDK creates (spool segments and lock, heatmaps, JSON lines, logs) get explicit modes,
 * not whatever the umask leaves: under umask 000 a world-writable spool would let any local user inject events
 * that the station then publishes with its own credentials. The mode given to open()/mkdir() is itself masked by
 * the umask, so every helper here also chmods what it created.
 */
export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

/**
 * A mode from a config file or an option: a string of octal digits ("0600", "600" or "0o600"; YAML reads a bare
 * 0600 as the decimal number 600, so a config gives it quoted) or, from code, a number (0o600). The owner must
 * keep read and write (and search, for a folder), and others may never write. Returns the problem and its fix
 * in words, or undefined when the mode is fine.
 */
export function modeProblem(value: unknown, kind: 'file' | 'dir'): string | undefined {
  const example = kind === 'file' ? '"0600"' : '"0700"';
  const mode = toMode(value);
  if (mode === undefined) return `${JSON.stringify(value) ?? String(value)} is not a file mode: give three octal digits as a quoted string, e.g. ${example}`;
  const owner = kind === 'file' ? 0o600 : 0o700;
  if ((mode & owner) !== owner) {
    return `${octal(mode)} takes ${kind === 'file' ? 'read or write' : 'read, write or search'} access from the SDK itself: keep ${octal(owner)} for the owner, e.g. ${example}`;
  }
  if (mode & 0o002) return `${octal(mode)} lets every local user write: take the write bit off the last digit, e.g. ${example}`;
  return undefined;
}

/** The mode `value` stands for; throws E_CONFIG naming `field` when {@link modeProblem} finds one. */
export function parseMode(value: string | number, field: string, kind: 'file' | 'dir'): number {
  const problem = modeProblem(value, kind);
  if (problem) throw new MmaerecError('E_CONFIG', `${field} ${problem}`);
  return toMode(value)!;
}

function toMode(value: unknown): number | undefined {
  const mode = typeof value === 'number' ? value
    : typeof value === 'string' && /^(0o?)?[0-7]{3}$/.test(value) ? Number.parseInt(value.replace(/^0o?/, ''), 8)
      : undefined;
  return mode !== undefined && Number.isInteger(mode) && mode >= 0 && mode <= 0o777 ? mode : undefined;
}

/** `fileMode` / `dirMode` of a config section as numbers (absent: the defaults apply); E_CONFIG naming `field`. */
export function parseModes(c: { fileMode?: string | number; dirMode?: string | number }, field: string): { file?: number; dir?: number } {
  return {
    ...(c.fileMode !== undefined ? { file: parseMode(c.fileMode, `${field}.fileMode`, 'file') } : {}),
    ...(c.dirMode !== undefined ? { dir: parseMode(c.dirMode, `${field}.dirMode`, 'dir') } : {}),
  };
}

export function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/**
 * Creates `dir` (and missing parents) with `mode`; returns the folders it created, deepest last. Only those are
 * chmod'ed: a folder that already existed (/var/log, a shared mount) keeps the mode its owner gave it.
 */
export async function mkdirPrivate(dir: string, mode = DIR_MODE): Promise<string[]> {
  const first = await mkdir(dir, { recursive: true, mode });
  if (!first) return [];
  const created: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    created.unshift(d);
    if (d === first || d === dirname(d)) break;
  }
  for (const d of created) await chmod(d, mode);
  return created;
}

/** Writes (creating or replacing) `file` with `mode`, also when it existed with another mode. */
export async function writeFilePrivate(file: string, data: string | Uint8Array, mode = FILE_MODE): Promise<void> {
  const fh = await open(file, 'w', mode);
  try {
    await fh.chmod(mode);
    await fh.writeFile(data);
  } finally {
    await fh.close();
  }
}

/** Opens `file` with `flags` and sets `mode` on it (for files this process owns: new ones, or its own). */
export async function openPrivate(file: string, flags: string, mode = FILE_MODE): Promise<FileHandle> {
  const fh = await open(file, flags, mode);
  try {
    await fh.chmod(mode);
  } catch (err) {
    await fh.close();
    throw err;
  }
  return fh;
}

/**
 * Opens `file` for appending; a file it creates gets `mode`, one that exists keeps its mode (an audit trail an
 * administrator shared with a reader group stays shared).
 */
export async function openAppendPrivate(file: string, mode = FILE_MODE): Promise<{ fh: FileHandle; created: boolean }> {
  try {
    return { fh: await openPrivate(file, 'ax', mode), created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { fh: await open(file, 'a'), created: false };
  }
}

/** True when others (group or world) may write to `path`. */
export async function writableByOthers(path: string): Promise<boolean> {
  const s = await stat(path);
  return (s.mode & 0o022) !== 0;
}

