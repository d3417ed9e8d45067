import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { MmaerecError } from '../../errors.js';
import { mkdirPrivate, octal, writableByOthers, writeFilePrivate } from '../../util/files.js';
import type { Logger } from '../logger.js';

/**
 * One owner per spool folder: within this process (a set of open folders) and across processes (a LOCK file
 * with the owner's pid; a lock left by a process that died is taken over, its spool is ours to replay).
 */
const openDirs = new Set<string>();

/** Creates the folder if needed and claims it; throws E_SPOOL naming the fix when it is taken or unwritable. */
export async function lockSpoolDir(dir: string, o: { dirMode: number; fileMode: number; logger: Logger }): Promise<void> {
  try {
    const created = await mkdirPrivate(dir, o.dirMode);
    // A folder given by the operator keeps its mode (it may be shared); say so when others can write in it.
    if (!created.length && (await writableByOthers(dir))) {
      o.logger.warn({ dir }, `spool: spool.dir "${dir}" is writable by other users, who could add events this station would publish: chmod ${octal(o.dirMode)} it`);
    }
  } catch (err) {
    throw new MmaerecError('E_SPOOL', `cannot create spool.dir "${dir}" (${(err as NodeJS.ErrnoException).code}): point spool.dir at a writable directory`, { cause: err });
  }
  if (openDirs.has(dir)) {
    throw new MmaerecError('E_SPOOL', `spool.dir "${dir}" is already open in this process: give each sink its own spool.dir`);
  }
  // Claimed before the awaits below: two opens of one dir started together must not both get it.
  openDirs.add(dir);
  try {
    const lockPath = join(dir, 'LOCK');
    const holder = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
      throw new MmaerecError('E_SPOOL', `spool.dir "${dir}" is in use by process ${holder}: give each sink its own spool.dir (or stop that process)`);
    }
    try {
      await writeFilePrivate(lockPath, `${process.pid}\n`, o.fileMode);
    } catch (err) {
      throw new MmaerecError('E_SPOOL', `cannot write in spool.dir "${dir}" (${(err as NodeJS.ErrnoException).code}): point spool.dir at a writable directory`, { cause: err });
    }
  } catch (err) {
    openDirs.delete(dir);
    throw err;
  }
}

/** Gives the folder up (removes the LOCK file) if this process holds it. */
export async function unlockSpoolDir(dir: string): Promise<void> {
  if (openDirs.delete(dir)) await unlink(join(dir, 'LOCK')).catch(() => undefined);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
