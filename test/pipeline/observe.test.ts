import { describe, expect, it } from 'vitest';
import type { ErrorRecord, InspectionResult } from '../../src/decide/result.js';
import { PipelineMetrics } from '../../src/observe/metrics.js';
import { percentile, RunSummary } from '../../src/observe/summary.js';

const model = { bundleName: 'b', bundleSha256: 'a'.repeat(64), backend: 'fake' };
function result(totalMs: number, verdict: 'ok' | 'defect' = 'ok'): InspectionResult {
  return {
    kind: 'inspection', frameId: 'f', capturedAt: 0, finishedAt: 0, score: 0, imageThreshold: 1, pixelThreshold: 1, verdict,
    regions: [], latency: { decodeMs: 1, preprocessMs: 2, inferMs: 30, scoreMs: 4, totalMs }, model,
  };
}
const error: ErrorRecord = { kind: 'error', frameId: 'e', capturedAt: 0, finishedAt: 0, code: 'E_INPUT', message: 'x' };

describe('PipelineMetrics', () => {
  it('counts frames by verdict, errors by code, drops, and stage latencies, served over HTTP', async () => {
    const m = new PipelineMetrics();
    m.observe(result(40));
    m.observe(result(60, 'defect'));
    m.observe(error);
    m.drop(3);
    m.restart();
    const server = await m.serve(0);
    try {
      const body = await (await fetch(server.url)).text();
      expect(body).toContain('mmaerec_frames_total{verdict="ok"} 1');
      expect(body).toContain('mmaerec_frames_total{verdict="defect"} 1');
      expect(body).toContain('mmaerec_errors_total{code="E_INPUT"} 1');
      expect(body).toContain('mmaerec_dropped_frames_total 3');
      expect(body).toContain('mmaerec_source_restarts_total 1');
      expect(body).toContain('mmaerec_stage_seconds_count{stage="infer"} 2');
      expect(body).toContain('mmaerec_stage_seconds_sum{stage="total"} 0.1');
      expect((await fetch(server.url.replace('/metrics', '/nope'))).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('refuses a port in use with E_CONFIG naming the fix', async () => {
    const a = new PipelineMetrics();
    const s = await a.serve(0);
    const port = Number(new URL(s.url).port);
    await expect(new PipelineMetrics().serve(port)).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringMatching(/EADDRINUSE.*choose another metrics.port/) });
    await s.close();
  });
});

describe('RunSummary', () => {
  it('reports fps and p50/p99 over the interval, and running totals', () => {
    let t = 0;
    const s = new RunSummary(() => t);
    for (let i = 1; i <= 100; i++) s.add(result(i, i % 50 === 0 ? 'defect' : 'ok'));
    s.add(error);
    s.setDrops(4);
    t = 2000;
    const f = s.take();
    expect(f).toEqual({ fps: 50, p50Ms: 50, p99Ms: 99, frames: 100, defects: 2, errors: 1, drops: 4 });
    expect(RunSummary.line(f)).toBe('50.00 fps, latency p50 50.0 ms p99 99.0 ms; totals: 100 frames, 2 defects, 1 errors, 4 dropped');
    t = 3000;
    expect(RunSummary.line(s.take())).toBe('0.00 fps, latency p50 - ms p99 - ms; totals: 100 frames, 2 defects, 1 errors, 4 dropped');
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
  });
});
