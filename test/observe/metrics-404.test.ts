import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InspectionResult } from '../../src/decide/result.js';
import { PipelineMetrics } from '../../src/observe/metrics.js';

// The metrics endpoint answers /metrics only; every other path is 404 (issue 15, item 12).

let metrics: PipelineMetrics;
let server: { url: string; close(): Promise<void> };
let origin: string;
beforeAll(async () => {
  metrics = new PipelineMetrics();
  server = await metrics.serve(0);
  origin = new URL(server.url).origin;
});
afterAll(async () => {
  await server.close();
});

/** A raw request, so that paths reach the server exactly as written (fetch would normalise them). */
function get(path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metrics endpoint paths', () => {
  it('serves the metrics on /metrics (with or without a query string)', async () => {
    for (const path of ['/metrics', '/metrics?name[]=mmaerec_frames_total']) {
      const r = await get(path);
      expect(r.status, path).toBe(200);
      expect(r.type).toMatch(/^text\/plain/);
      expect(r.body).toContain('# TYPE mmaerec_frames_total counter');
    }
  });

  it('answers 404 without metrics for any other path', async () => {
    for (const path of ['/', '/index.html', '/metrics/', '/metrics/x', '/metricsx', '//metrics', '/../metrics', '/admin', '/%2e%2e/etc/passwd']) {
      const r = await get(path);
      expect(r.status, path).toBe(404);
      expect(r.body, path).not.toContain('mmaerec_');
    }
  });

  it('answers 405 to methods other than GET and HEAD on /metrics', async () => {
    const r = await get('/metrics', 'POST');
    expect(r.status).toBe(405);
    expect(r.body).not.toContain('mmaerec_');
    expect((await get('/metrics', 'HEAD')).status).toBe(200);
  });
});

describe('heatmap failure counter', () => {
  it('counts each record whose heatmap could not be rendered', async () => {
    const m = new PipelineMetrics();
    const record: InspectionResult = {
      kind: 'inspection', frameId: 'f', capturedAt: 0, finishedAt: 0, score: 1, imageThreshold: 0.5, pixelThreshold: 0.5,
      verdict: 'defect', regions: [], latency: { decodeMs: 0, preprocessMs: 0, inferMs: 0, scoreMs: 0, totalMs: 0 },
      model: { bundleName: 't', bundleSha256: 'x', backend: 'fake' },
    };
    m.observe(record);
    m.observe({ ...record, warnings: [{ kind: 'heatmap', message: 'frame f: heatmap not rendered' }] });
    m.observe({ ...record, warnings: [{ kind: 'heatmap', message: 'frame f: heatmap not rendered' }] });
    const text = await m.text();
    expect(text).toMatch(/^mmaerec_heatmap_failures_total 2$/m);
    expect(text).toMatch(/^mmaerec_frames_total\{verdict="defect"\} 3$/m); // the verdicts still count
  });
});
