/** Fails before training starts when the output folder cannot take the checkpoints and the bundle. */
import { mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MmaerecError } from '../errors.js';

/**
 * Creates `dir`, writes and removes a probe file, and checks the free space against `neededBytes`
 * (checkpoint + optimizer state + bundle, with a margin). Throws E_IO naming the folder and the fix.
 */
export async function assertWritable(dir: string, neededBytes: number): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const probe = join(dir, `.write-probe-${process.pid}`);
    await writeFile(probe, new Uint8Array(4096));
    await rm(probe);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new MmaerecError('E_IO', `output folder ${dir} is not writable (${code}): pass --out a folder you can write to`, { cause: err });
  }
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  if (free < neededBytes) {
    const mb = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
    throw new MmaerecError('E_IO', `output folder ${dir} has ${mb(free)} free, training needs about ${mb(neededBytes)}: free disk space or pass --out on another disk`);
  }
}
