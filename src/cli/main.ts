import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { isMmaerecError, type MmaerecError } from '../errors.js';
import { configureGrammar } from './grammar.js';
import { commands } from './registry.js';

/**
 * Each command lives in its own file under ./commands and is imported only when used, so
 * `mmaerec-edge run` on a Jetson never loads the training stack. A command module exports
 * `register(program: Command): void`, which defines its flags and action.
 */

export interface MainHooks {
  /** Called with each error main reports as one line (for harnesses that need its code, e.g. test/fuzz). */
  reported?(err: MmaerecError): void;
  /** Called with an unexpected error (a bug) before main prints its one line and returns 70. */
  internal?(err: Error): void;
}

export async function main(argv: string[], hooks: MainHooks = {}): Promise<number> {
  const { registerAll } = await import('./commands/index.js');
  registerAll();
  const program = configureGrammar(new Command('mmaerec-edge'))
    .description('MMAERec anomaly detection for line-side controllers')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const wanted = argv[0];
  const selected = wanted && commands[wanted] ? [wanted] : Object.keys(commands);
  for (const name of selected) {
    const entry = commands[name]!;
    if (selected.length > 1) {
      // Listing only (help or unknown command): describe without importing the module.
      program.command(name).description(entry.summary).allowUnknownOption().action(() => undefined);
    } else {
      (await entry.load()).register(program);
    }
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (isMmaerecError(err)) {
      hooks.reported?.(err);
      process.stderr.write(`mmaerec-edge: ${err.message}\n`);
      return 1;
    }
    const missing = /Cannot find (?:package|module) '(@tensorflow\/[^']+)'/.exec(err instanceof Error ? err.message : '');
    if (missing) {
      // The tfjs packages are optional dependencies: a line-side install may leave them out (npm ci --omit=optional).
      process.stderr.write(`mmaerec-edge: ${missing[1]} is not installed (tfjs is an optional dependency, needed for training and the tfjs forward pass): run \`npm install ${missing[1]}\` or install without --omit=optional\n`);
      return 1;
    }
    // Anything else is a bug of ours. An unattended controller's log gets one line naming it, not a stack, and
    // the exit status 70 (EX_SOFTWARE) says so; MMAEREC_DEBUG=1 rethrows it for the stack.
    if (process.env.MMAEREC_DEBUG === '1') throw err;
    const e = err instanceof Error ? err : new Error(String(err));
    hooks.internal?.(e);
    const code = (e as NodeJS.ErrnoException).code;
    const what = `${e.name}${typeof code === 'string' ? ` ${code}` : ''}: ${e.message}`.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 300);
    process.stderr.write(`mmaerec-edge: internal error (${what}): this is a bug in mmaerec-edge; run again with MMAEREC_DEBUG=1 for the stack and report it\n`);
    return INTERNAL_ERROR_STATUS;
  }
}

/** Exit status of an unexpected (non-MmaerecError) failure: sysexits' EX_SOFTWARE. */
export const INTERNAL_ERROR_STATUS = 70;

/**
 * Whether this file is the script Node was started with. Node loads the entry by its real path and
 * percent-encodes its URL, so compare against the same: a bare `file://${argv[1]}` misses under a directory
 * with a space (or reached through a symlink), and the CLI would then exit 0 without doing anything.
 */
function isEntryScript(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryScript()) {
  process.exitCode = await main(process.argv.slice(2));
}
