import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * `mkdir -p` that returns the folders it created, deepest first (so a caller can remove them again), one level
 * at a time: Node 20's `mkdirSync(dir, { recursive: true })` never returns under /proc (it retries ENOENT
 * forever), which made a spool or log folder there hang the process. Throws the file system's error.
 */
export function makeDirs(dir: string, mode?: number): string[] {
  const missing: string[] = [];
  let d = path.resolve(dir);
  for (;;) {
    let exists = false;
    try {
      statSync(d);
      exists = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (exists || d === path.dirname(d)) break;
    missing.push(d);
    d = path.dirname(d);
  }
  const created: string[] = [];
  for (const m of missing.reverse()) {
    mkdirSync(m, mode === undefined ? undefined : { mode });
    created.unshift(m);
  }
  return created;
}
