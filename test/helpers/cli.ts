import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from './require-tool.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Writes `<dir>/entry.mjs`, which runs the CLI of the tree under test (src/cli/main.ts) as the installed bin
 * does; returns its path for runCli.
 */
export async function writeCliEntry(dir: string): Promise<string> {
  const entry = path.join(dir, 'entry.mjs');
  await writeFile(entry, `const { main } = await import(${JSON.stringify(path.join(ROOT, 'src/cli/main.ts'))});\nprocess.exitCode = await main(process.argv.slice(2));\n`);
  return entry;
}

/** Runs the CLI entry as a child process (cwd = the repository root); `env` replaces the environment when given. */
export function runCli(entry: string, args: string[], o: { env?: NodeJS.ProcessEnv; onStart?: (child: ChildProcess) => void } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: ROOT, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    o.onStart?.(child);
  });
}
