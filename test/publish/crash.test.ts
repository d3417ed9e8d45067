import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { noMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { collect } from './collector.js';
import { needs } from '../helpers/require-tool.js';

const CHILD = join(import.meta.dirname, 'fixtures', 'publish-child.ts');

function runChild(args: string[], onLine: (line: string, kill: () => void) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { cwd: join(import.meta.dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout }).on('line', (line) => onLine(line, () => child.kill('SIGKILL')));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

needs(noMosquitto).describe('publisher SIGKILLed mid-stream', () => {
  let broker: Mosquitto;
  const root = mkdtempSync(join(tmpdir(), 'mmaerec-crash-'));
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  test('every event accepted before the kill arrives after a restart replays the spool', async () => {
    const sub = await collect(broker.url, 'mmaerec/crash/#');
    const dir = join(root, 'spool');
    const accepted: string[] = [];
    const first = await runChild(['--url', broker.url, '--dir', dir], (line, kill) => {
      if (!line.startsWith('ACCEPTED ')) return;
      accepted.push(line.slice(9));
      // A hung broker from event 300 on: the rest piles up unacknowledged in the spool, then the crash.
      if (accepted.length === 300) broker.pause();
      if (accepted.length === 1500) kill();
    });
    expect(first.signal, first.stderr).toBe('SIGKILL');
    expect(accepted.length).toBeGreaterThanOrEqual(1500);
    broker.resume();
    let spooledAtRestart = -1;
    const second = await runChild(['--url', broker.url, '--dir', dir, '--mode', 'drain'], (line) => {
      if (line.startsWith('SPOOLED ')) spooledAtRestart = Number(line.slice(8));
    });
    expect(second.code, second.stderr).toBe(0);
    expect(spooledAtRestart).toBeGreaterThanOrEqual(1000);
    await sub.waitFor(() => accepted.every((id) => sub.counts.has(id)), 10_000, 'every accepted id');
    expect(accepted.filter((id) => !sub.counts.has(id))).toEqual([]);
    expect(sub.invalid).toEqual([]);
    const duplicates = [...sub.counts.values()].filter((c) => c > 1).length;
    console.log(`crash: ${accepted.length} accepted before SIGKILL, ${spooledAtRestart} replayed from the spool, 0 lost, ${duplicates} duplicates (same id)`);
    await sub.end();
  });
});
