import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/** A path under the repository, quoted for use inside a host script's source. */
export const rootPath = (rel: string): string => JSON.stringify(path.join(ROOT, rel));

/**
 * Runs `source` as a separate host process (`node --import tsx host.mts …args`, a script file as the CLI is
 * started) and returns its stdout. Crashes that abort the whole process (SIGABRT, SIGSEGV) reject here.
 */
export async function runHostScript(source: string, args: string[] = [], timeout = 60_000): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mmaerec-host-'));
  const file = path.join(dir, 'host.mts');
  writeFileSync(file, source);
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file, ...args], { cwd: ROOT, timeout });
    return stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
