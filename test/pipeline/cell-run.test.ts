import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseRunConfig } from '../../src/config/load.js';
import { startRun } from '../../src/pipeline/from-config.js';
import { gradientPng, tinyBundle } from './helpers.js';

/** Two cameras of a cell through `run`'s own wiring: one model, records and metrics per camera. */
describe('run with sources: a two-camera cell', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mmaerec-cell-'));
    await tinyBundle(join(dir, 'bundle'));
    const png = await gradientPng(48, 40);
    for (const [cam, n] of [['top', 3], ['side', 5]] as const) {
      mkdirSync(join(dir, cam));
      for (let i = 0; i < n; i++) writeFileSync(join(dir, cam, `f${i}.png`), png);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('each record names its camera and topic path; per-camera counts and prom-client labels', async () => {
    const config = parseRunConfig({
      model: join(dir, 'bundle'),
      backend: { name: 'onnxruntime', threads: 1 },
      sources: [
        { id: 'top', capture: { type: 'files', path: join(dir, 'top'), watch: true, pollMs: 20, stableMs: 0 }, topic: 'L1/S3/top', thresholds: { image: 1e9 } },
        { id: 'side', capture: { type: 'files', path: join(dir, 'side'), watch: true, pollMs: 20, stableMs: 0 }, topic: 'L1/S3/side', thresholds: { image: -1 } },
      ],
      sinks: [{ type: 'jsonl', path: join(dir, 'out.jsonl'), fsync: false }],
      metrics: { port: 0, summaryIntervalS: 0 },
      logging: { level: 'silent' },
    });
    const run = await startRun(config);
    const lines = () => { try { return readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)); } catch { return []; } };
    const deadline = Date.now() + 30_000;
    while (lines().length < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const metrics = await (await fetch(run.metricsUrl!)).text();
    run.stop();
    const stats = await run.done;
    const records = lines();
    expect(records).toHaveLength(8);
    const by = (cam: string) => records.filter((r) => r.camera?.camera === cam);
    expect(by('top').map((r) => r.frameId).sort()).toEqual(['f0.png', 'f1.png', 'f2.png']);
    expect(by('side')).toHaveLength(5);
    expect(by('top')[0].camera).toEqual({ line: 'L1', station: 'S3', camera: 'top' });
    // Each camera's own thresholds over the shared model: top never a defect, side always.
    expect(by('top').every((r) => r.verdict === 'ok')).toBe(true);
    expect(by('side').every((r) => r.verdict === 'defect')).toBe(true);
    expect(new Set(records.map((r) => r.model.bundleSha256)).size).toBe(1);
    expect(metrics).toMatch(/mmaerec_frames_total\{verdict="ok",camera="top"\} 3/);
    expect(metrics).toMatch(/mmaerec_frames_total\{verdict="defect",camera="side"\} 5/);
    expect(metrics).toMatch(/mmaerec_batch_frames_count \d+/);
    expect(stats).toMatchObject({ frames: 8, inspected: 8, errors: 0, cameras: { top: { frames: 3 }, side: { frames: 5 } } });
  });
});
