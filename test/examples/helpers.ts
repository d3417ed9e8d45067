import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createBundle, writeBundle, type LoadedBundle } from '../../src/model/bundle.js';
import { presetConfig } from '../../src/model/config.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const FRAMES = path.join(ROOT, 'examples', 'frames');
/** The sample frames, sorted by name (as the folder source and the line controller take them). */
export const FRAME_NAMES = ['crack-1.png', 'good-1.png', 'good-2.png', 'good-3.png', 'good-4.png', 'scratch-1.png', 'spot-1.png', 'stain-1.png'];

/** A tiny real bundle (lite at 32², narrow, random weights): ONNX Runtime runs a frame in a few ms. */
export async function tinyBundle(dir: string, thresholds = { image: 0.5, pixel: 0.5, source: 'test' }): Promise<LoadedBundle> {
  const config = presetConfig('lite', { inputSize: 32, backbone: { widthDivisor: 4 }, levelChannels: [16, 16, 32, 32], headChannels: 8 });
  return writeBundle(dir, await createBundle({ config, seed: 7, name: 'tiny-example', thresholds }));
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node --import tsx <args>` in the repository root, as the examples' README tells users to. */
export function runNode(args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Writes an entry file that calls the CLI's main() as bin/mmaerec-edge.js does (src/cli/main.ts as the entry
 * script deadlocks on its own top-level await) and returns its path.
 */
export function cliEntry(dir: string): string {
  const entry = path.join(dir, 'entry.mjs');
  writeFileSync(entry, `const { main } = await import(${JSON.stringify(path.join(ROOT, 'src/cli/main.ts'))});\nprocess.exitCode = await main(process.argv.slice(2));\n`);
  return entry;
}

export const OPENSSL = ['/usr/bin/openssl', '/usr/local/bin/openssl'].find((p) => existsSync(p));

/** A throwaway CA, a broker certificate for 127.0.0.1 and a client certificate (openssl, EC P-256, 1 day). */
export function makeCertificates(dir: string): Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string> {
  const run = (...args: string[]) => execFileSync(OPENSSL!, args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=mmaerec example CA');
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const [name, cn, ext] of [['server', '127.0.0.1', ['-extfile', 'server.ext']], ['client', 'mmaerec-line1', []]] as const) {
    run('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', ...ext);
  }
  const p = (f: string) => path.join(dir, f);
  return { ca: p('ca.pem'), serverCert: p('server.pem'), serverKey: p('server.key'), clientCert: p('client.pem'), clientKey: p('client.key') };
}
