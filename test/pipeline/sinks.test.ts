import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorRecord, InspectionResult } from '../../src/decide/result.js';
import { JsonlSink, recordToLine } from '../../src/publish/jsonl-sink.js';
import { StdoutSink } from '../../src/publish/stdout-sink.js';

const model = { bundleName: 'b', bundleSha256: 'a'.repeat(64), backend: 'fake' };
const result: InspectionResult = {
  kind: 'inspection', frameId: 'f1', origin: '/cam/f1.png', capturedAt: 1, finishedAt: 2, score: 0.7,
  imageThreshold: 0.5, pixelThreshold: 0.4, verdict: 'defect',
  regions: [{ x: 1, y: 2, width: 3, height: 4, area: 10, maxScore: 0.9, meanScore: 0.6 }],
  heatmap: { format: 'png', data: new Uint8Array([1, 2, 3]), width: 8, height: 8 },
  latency: { decodeMs: 1, preprocessMs: 2, inferMs: 3, scoreMs: 4, totalMs: 10 }, model,
};
const error: ErrorRecord = { kind: 'error', frameId: 'f2', capturedAt: 3, finishedAt: 4, code: 'E_INPUT', message: 'frame f2: bad', model };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-sink-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('JsonlSink', () => {
  it('appends one JSON line per record with every field, in order, creating the folder', async () => {
    const file = path.join(dir, 'out', 'results.jsonl');
    const sink = new JsonlSink({ path: file });
    await Promise.all([sink.write(result), sink.write(error)]);
    await sink.close();
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual({ ...result, heatmap: { format: 'png', width: 8, height: 8, bytes: 3 } });
    expect(lines[1]).toEqual(error);
    await expect(sink.write(result)).rejects.toMatchObject({ code: 'E_IO', message: expect.stringMatching(/write after close/) });
  });

  it('inlines heatmaps as base64 when asked, and keeps non-finite numbers readable', () => {
    const line = JSON.parse(recordToLine({ ...result, score: NaN }, 'inline'));
    expect(line.heatmap.base64).toBe('AQID');
    expect(line.score).toBe('NaN');
  });

  it('fails with E_IO naming the path when the file cannot be opened', async () => {
    const blocker = path.join(dir, 'a-file');
    await writeFile(blocker, 'x'); // a file where a folder should be
    const sink = new JsonlSink({ path: path.join(blocker, 'x.jsonl') });
    await expect(sink.write(result)).rejects.toMatchObject({ code: 'E_IO', message: expect.stringMatching(/cannot open .*a-file\/x.jsonl .*: check the folder/) });
  });
});

describe('StdoutSink', () => {
  it('writes JSON lines or readable text lines to its stream', async () => {
    const chunks: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (c: Buffer) => chunks.push(c.toString()));
    const json = new StdoutSink({ stream });
    await json.write(error);
    const text = new StdoutSink({ stream, format: 'text' });
    await text.write(result);
    await text.write(error);
    await text.close();
    const out = chunks.join('').split('\n');
    expect(JSON.parse(out[0]!)).toEqual(error);
    expect(out[1]).toBe('DEFECT f1  score 0.7000 (threshold 0.5000)  regions 1  worst 3×4+1+2  10.0 ms');
    expect(out[2]).toBe('ERROR  f2  E_INPUT: frame f2: bad');
  });
});
