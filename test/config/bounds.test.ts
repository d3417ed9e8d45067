import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProblems } from '../../src/config/check.js';
import { parseRunConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observe/logger.js';
import { startRun } from '../../src/pipeline/from-config.js';

// Issue 15, item 4: every number of the run config is bounded to what the machine can mean, one E_CONFIG line
// each; a log file that cannot be opened is an E_CONFIG line, not pino's EEXIST stack.

const ROOT = path.resolve(import.meta.dirname, '../..');
const base = { model: 'm', source: { type: 'files', path: 'x' }, sinks: [{ type: 'stdout' }] };

function problem(extra: Record<string, unknown>): string {
  try {
    parseRunConfig({ ...base, ...extra }, 'c.yaml');
  } catch (err) {
    expect(err).toMatchObject({ code: 'E_CONFIG' });
    return (err as Error).message;
  }
  return 'accepted';
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-bounds-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('run config: numbers beyond what the machine can mean', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ backend: { threads: 100000 } }, 'c.yaml: backend.threads: 100000 is above the maximum 256: give at most 256 (CPU threads per session)'],
    [{ backend: { threads: 0 } }, 'c.yaml: backend.threads: 0 is not positive: give a positive number (CPU threads per session)'],
    [{ metrics: { port: 70000 } }, 'c.yaml: metrics.port: 70000 is above the maximum 65535: give at most 65535'],
    [{ metrics: { summaryIntervalS: 1e10 } }, 'c.yaml: metrics.summaryIntervalS: 10000000000 is above the maximum 2147483: give at most 2147483 (seconds)'],
    [{ pipeline: { bundleRetryS: 1e10 } }, 'c.yaml: pipeline.bundleRetryS: 10000000000 is above the maximum 2147483: give at most 2147483 (seconds)'],
    [{ source: { type: 'ffmpeg', input: 'x', width: 640, height: 480, stallTimeoutMs: 1e12 } },
      'c.yaml: source.stallTimeoutMs: 1000000000000 is above the maximum 2147483647: give at most 2147483647 (milliseconds; timers stop at 2^31 − 1 ms, ≈ 24.8 days)'],
    [{ source: { type: 'files', path: 'x', queue: { capacity: 1e6 } } }, 'c.yaml: source.queue.capacity: 1000000 is above the maximum 1024: give at most 1024'],
    [{ source: { type: 'files', path: 'x', pollMs: 0 } }, 'c.yaml: source.pollMs: 0 is below the minimum 10: give at least 10 (milliseconds; timers stop at 2^31 − 1 ms, ≈ 24.8 days)'],
    [{ roi: { x: 0, y: 0, width: 20000, height: 10 } }, 'c.yaml: roi.width: 20000 is above the maximum 16383: give roi as integers x, y >= 0 and width, height > 0 in frame pixels'],
    [{ sinks: [{ type: 'mqtt', url: 'mqtt://h', line: 'l', station: 's', camera: 'c', keepaliveS: 100000, spool: { kind: 'memory' } }] },
      'c.yaml: sinks.0.keepaliveS 100000 is above 65535: give seconds, e.g. 30, at most 65535'],
    [{ sinks: [{ type: 'mqtt', url: 'mqtt://h', line: 'l', station: 's', camera: 'c', maxInflight: 1e6, spool: { kind: 'memory' } }] },
      'c.yaml: sinks.0.maxInflight 1000000 is above 65535: give a number of messages, e.g. 256, at most 65535'],
    [{ sinks: [{ type: 'mqtt', url: 'mqtt://h', line: 'l', station: 's', camera: 'c', heartbeatMs: 1e13, spool: { kind: 'memory' } }] },
      'c.yaml: sinks.0.heartbeatMs 10000000000000 is above 2147483647: give milliseconds between heartbeats (e.g. 30000), or 0 to disable them'],
    [{ sinks: [{ type: 'mqtt', url: 'mqtt://h', line: 'l1+', station: 's', camera: 'c', spool: { kind: 'memory' } }] },
      'c.yaml: sinks.0.line "l1+" cannot be part of an MQTT topic: use a non-empty id without "/", "+" or "#"'],
  ];
  for (const [extra, message] of cases) {
    it(message.slice(8, message.indexOf(' ', 8)), () => {
      expect(problem(extra)).toBe(message);
    });
  }

  it('the bounds themselves are accepted', () => {
    expect(problem({ backend: { threads: 256 }, metrics: { port: 65535, summaryIntervalS: 2147483 } })).toBe('accepted');
  });
});

describe('threads × sessions against the CPUs of the machine', () => {
  const config = (threads: number, sessions: number) => parseRunConfig({ ...base, backend: { threads, sessions, requireNativeScoring: false } });

  it('refuses more than 4 inference threads per CPU, naming the most this machine takes', () => {
    expect(startProblems(config(9, 1), 2).map((p) => [p.code, p.message])).toEqual([[
      'E_CONFIG',
      "backend.threads 9 × backend.sessions 1 = 9 inference threads, more than 4 per CPU on this machine (2 CPUs): give backend.threads at most 8, or leave it out for the runtime's choice",
    ]]);
    expect(startProblems(config(4, 3), 2)[0]?.message).toMatch(/^backend.threads 4 × backend.sessions 3 = 12 .*give backend.threads at most 2,/);
    expect(startProblems(config(8, 1), 2)).toEqual([]);
  });

  it('startRun refuses before it starts anything (no log file created)', async () => {
    const c = { ...config(256, 16), logging: { level: 'info' as const, file: path.join(dir, 'never.log') } };
    await expect(startRun(c)).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringMatching(/^backend.threads 256 × backend.sessions 16 = 4096 inference threads/) });
    expect(spawnSync('ls', [dir]).stdout.toString()).toBe('');
  });
});

describe('logging.file that cannot be opened', () => {
  it('under a path whose folder part is a file: one E_CONFIG line naming the field and the fix', async () => {
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'x');
    const target = path.join(file, 'log.json');
    expect(() => createLogger({ file: target })).toThrow(
      `logging.file "${target}" cannot be opened for appending (ENOTDIR: a part of its folder path is a file, not a folder): give a writable file path, or remove logging.file to log to stderr`,
    );
  });

  it('under /proc (where mkdir -p never returned): an E_CONFIG line within seconds, not a hang', () => {
    // In a child process with a timeout: the hang was a synchronous loop that no test timeout could interrupt.
    const script = path.join(dir, 'proc-log.mjs');
    writeFileSync(script, `const { createLogger } = await import(${JSON.stringify(path.join(ROOT, 'src/observe/logger.ts'))});\n` +
      `try { createLogger({ file: '/proc/mmaerec-no-such/log.json' }); console.log('opened'); } catch (e) { console.log(e.code + ' ' + e.message); }\n`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, timeout: 20_000, encoding: 'utf8' });
    expect(r.signal, 'timed out: mkdir under /proc hangs').toBeNull();
    expect(r.stdout.trim()).toBe('E_CONFIG logging.file "/proc/mmaerec-no-such/log.json" cannot be opened for appending (ENOENT): give a writable file path, or remove logging.file to log to stderr');
  });
});
