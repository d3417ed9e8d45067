import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemorySource } from '../../src/capture/memory-source.js';
import type { InspectionResult, PipelineRecord } from '../../src/decide/result.js';
import { MmaerecError } from '../../src/errors.js';
import type { LoadedBundle } from '../../src/model/bundle.js';
import { PipelineMetrics } from '../../src/observe/metrics.js';
import { Inspector } from '../../src/pipeline/inspector.js';
import { runPipeline } from '../../src/pipeline/runner.js';
import { StdoutSink } from '../../src/publish/stdout-sink.js';
import { corruptHuffmanJpeg } from '../helpers/corrupt-jpeg.js';
import { FakeBackend, reconWithBlock, tinyBundle } from './helpers.js';

// A heatmap failure never throws the inspection away (issue 15, item 1): the verdict stands, the record
// carries a one-line warning naming the frame, and a counter counts it.

/** When set, renderHeatmap rejects with it (a stand-in for libvips failing to encode, out of memory, …). */
const heatmapFault = vi.hoisted(() => ({ error: undefined as unknown }));
vi.mock('../../src/decide/heatmap.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/decide/heatmap.js')>();
  return {
    ...real,
    renderHeatmap: (...args: Parameters<typeof real.renderHeatmap>) => (heatmapFault.error !== undefined ? Promise.reject(heatmapFault.error) : real.renderHeatmap(...args)),
  };
});

let dir: string;
let bundle: LoadedBundle;
let jpeg: Uint8Array;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-heatmap-failure-'));
  bundle = await tinyBundle(path.join(dir, 'bundle'), { image: 0.3, pixel: 0.2, source: 'test thresholds' });
  const fixture = await corruptHuffmanJpeg();
  expect(fixture.strictError).toMatch(/bad Huffman code/); // precondition: sharp's default policy refuses it
  jpeg = fixture.bytes;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  heatmapFault.error = undefined;
});

const frame = (id = 'huff.jpg') => ({ id, capturedAt: 1_700_000_000_000, image: jpeg, origin: 'test' });
/** A back end whose reconstruction misses a block: the frame is a defect with a region. */
const defectBackend = () => new FakeBackend(32, 32, reconWithBlock(32, 32, { x0: 8, x1: 16, y0: 8, y1: 16 }));

async function inspectOnce(mode: 'off' | 'all', id?: string): Promise<PipelineRecord> {
  const inspector = await Inspector.create(bundle, { inferenceBackend: defectBackend(), heatmap: { mode } });
  try {
    return await inspector.inspectRecord(frame(id));
  } finally {
    await inspector.close();
  }
}

describe('heatmap failures', () => {
  it('a JPEG with a corrupt Huffman code gets its verdict and its heatmap (the heatmap decodes as inspection does)', async () => {
    const plain = await inspectOnce('off');
    const withMap = await inspectOnce('all');
    expect(plain.kind).toBe('inspection');
    expect(withMap.kind, JSON.stringify(withMap)).toBe('inspection');
    const r = withMap as InspectionResult;
    expect(r.verdict).toBe('defect');
    expect(r.score).toBe((plain as InspectionResult).score);
    expect(r.heatmap).toMatchObject({ format: 'png', width: 64, height: 64 });
    expect(r.warnings).toBeUndefined();
  });

  it('a heatmap that fails: the verdict, score and regions stand, and the record carries one warning line', async () => {
    const plain = (await inspectOnce('off')) as InspectionResult;
    heatmapFault.error = new Error('vips2png: unable to write to target target\nsecond line from libvips');
    const r = await inspectOnce('all');
    expect(r.kind).toBe('inspection');
    const res = r as InspectionResult;
    expect({ verdict: res.verdict, score: res.score, regions: res.regions }).toEqual({ verdict: plain.verdict, score: plain.score, regions: plain.regions });
    expect(res.heatmap).toBeUndefined();
    expect(res.warnings).toEqual([{ kind: 'heatmap', message: 'frame huff.jpg: heatmap not rendered, the verdict stands: vips2png: unable to write to target target: report it with the frame attached' }]);

    heatmapFault.error = new MmaerecError('E_INPUT', 'frame huff.jpg: cannot decode the image (VipsJpeg: bad Huffman code): send a complete PNG, JPEG, TIFF or WebP file, or raw RGB');
    const again = (await inspectOnce('all')) as InspectionResult;
    expect(again.warnings).toEqual([{ kind: 'heatmap', message: 'frame huff.jpg: heatmap not rendered, the verdict stands: cannot decode the image (VipsJpeg: bad Huffman code): send a complete PNG, JPEG, TIFF or WebP file, or raw RGB' }]);
  });

  it('in a run: verdicts, not error events; the counter counts the failures; text and JSON lines carry the warning', async () => {
    heatmapFault.error = new Error('vips2png: unable to write to target target');
    for (const format of ['text', 'json'] as const) {
      const inspector = await Inspector.create(bundle, { inferenceBackend: defectBackend(), heatmap: { mode: 'all' } });
      const source = new MemorySource({ name: 'test' });
      const out = new PassThrough();
      let written = '';
      out.on('data', (d: Buffer) => (written += d));
      const metrics = new PipelineMetrics();
      const feeding = (async () => {
        await source.push(frame('a.jpg'));
        await source.push(frame('b.jpg'));
        source.end();
      })();
      const stats = await runPipeline({ source, inspector, sinks: [new StdoutSink({ format, stream: out })], metrics });
      await feeding;
      await inspector.close();
      expect(stats).toMatchObject({ frames: 2, inspected: 2, defects: 2, errors: 0 });
      expect(await metrics.text()).toMatch(/^mmaerec_heatmap_failures_total 2$/m);
      const lines = written.trimEnd().split('\n');
      expect(lines).toHaveLength(2);
      if (format === 'text') {
        expect(lines[0]).toMatch(/^DEFECT a\.jpg {2}score \d+\.\d{1,4} .* {2}warning: frame a\.jpg: heatmap not rendered, the verdict stands: vips2png: unable to write to target target: report it with the frame attached$/);
      } else {
        const rec = JSON.parse(lines[1]!);
        expect(rec).toMatchObject({ kind: 'inspection', frameId: 'b.jpg', verdict: 'defect', warnings: [{ kind: 'heatmap', message: expect.stringMatching(/^frame b\.jpg: heatmap not rendered/) }] });
      }
    }
  });
});
