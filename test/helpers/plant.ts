import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { InspectionResult, PipelineRecord } from '../../src/decide/result.js';
import type { Postgres } from './postgres.js';

/**
 * Pieces shared by the plant-consumer test (test/examples/plant-consumer.test.ts) and its benchmark
 * (bench/plant.ts): the consumer as a child process, numbered records whose stored form can be predicted,
 * and a wait for rows in the store.
 */

/** The checkout under test (as require-tool's ROOT; not imported from there, which loads vitest: bench/plant.ts uses this file). */
const ROOT = path.resolve(import.meta.dirname, '../..');
export const CONSUMER = path.join('examples', 'plant-consumer', 'consumer.ts');

export interface ConsumerSummary {
  clientId: string;
  stored: number;
  duplicates: number;
  rejected: number;
  statuses: number;
  ignored: number;
}

export interface ConsumerProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once the consumer has subscribed for the first time. */
  ready: Promise<void>;
  /** When (Date.now()) each of its "subscribed to" lines appeared: one per connection to the broker. */
  subscribedAt: number[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then the JSON summary it prints on the way out. */
  stop(): Promise<ConsumerSummary>;
  /** SIGKILL: no clean disconnect, no summary. */
  kill(): Promise<void>;
}

/** Starts `node --import tsx examples/plant-consumer/consumer.ts <args>` in the repository root. */
export function startConsumer(args: string[]): ConsumerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CONSUMER, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const subscribedAt: number[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const lines = stderr.match(/: subscribed to /g)?.length ?? 0;
      while (subscribedAt.length < lines) subscribedAt.push(Date.now());
      if (lines > 0) resolve();
    });
    void exited.then(({ code, signal }) => reject(new Error(`consumer exited (${code ?? signal}) before subscribing: ${stderr}`)));
  });
  ready.catch(() => undefined); // callers that never wait for it must not see an unhandled rejection
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    ready,
    subscribedAt,
    exited,
    async stop() {
      child.kill('SIGTERM');
      const { code, signal } = await exited;
      if (code !== 0) throw new Error(`consumer stopped with ${code ?? signal}: ${stderr}`);
      return JSON.parse(stdout.trim().split('\n').at(-1)!).summary as ConsumerSummary;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The flags of one member of a share group. */
export function consumerArgs(brokerUrl: string, databaseUrl: string, clientId: string, ...more: string[]): string[] {
  return ['--broker', brokerUrl, '--database', databaseUrl, '--client-id', clientId, '--quiet', ...more];
}

/** Regions of record n: none for ok results, 1–3 for defects, with coordinates derived from n and the ordinal. */
export function regionsOf(n: number): InspectionResult['regions'] {
  if (n % 3 === 0) return [];
  return Array.from({ length: 1 + (n % 3) + (n % 2) }, (_, k) => ({
    x: n % 1000, y: k * 10, width: 5 + k, height: 7 + k, area: 35 + n % 17, maxScore: 0.9 + k / 100, meanScore: 0.5 + k / 100,
  }));
}

/** Record n: an error record every 97th frame, else an inspection (defect when it has regions). */
export function plantRecord(n: number): PipelineRecord {
  const t = 1_790_000_000_000 + n;
  if (n % 97 === 96) {
    return { kind: 'error', frameId: `frame-${n}`, capturedAt: t, finishedAt: t + 1, code: 'E_INPUT', message: 'frame is not a decodable image: check the camera output format' };
  }
  const regions = regionsOf(n);
  return {
    kind: 'inspection', frameId: `frame-${n}`, capturedAt: t, finishedAt: t + 12, score: regions.length ? 0.91 : 0.12, imageThreshold: 0.5, pixelThreshold: 0.4,
    verdict: regions.length ? 'defect' : 'ok', regions,
    latency: { decodeMs: 1, preprocessMs: 2, inferMs: 5, scoreMs: 3, totalMs: 11 },
    model: { bundleName: 'plant-test', bundleSha256: 'b'.repeat(64), backend: 'onnxruntime-cpu' },
  };
}

/** Polls `SELECT count(*) FROM events` until it reaches `rows`; returns the count reached (maybe fewer at the deadline). */
export async function waitForRows(db: Postgres, database: string, rows: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [{ n }] = await db.query<{ n: number }>(database, 'SELECT count(*)::int AS n FROM events');
    if (n >= rows || Date.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 100));
  }
}
