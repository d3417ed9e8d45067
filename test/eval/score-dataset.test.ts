import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { EvalAnalyzer } from '../../src/eval/analyzer.js';
import type { DatasetImage } from '../../src/eval/dataset.js';
import { scoreImages } from '../../src/eval/score-dataset.js';

let dir: string;
const images: DatasetImage[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-score-dataset-'));
  for (let i = 0; i < 8; i++) {
    const path = join(dir, `g${i}.png`);
    await writeFile(path, new Uint8Array([i])); // the analyzer below never decodes it
    images.push({ key: `good/g${i}`, defect: 'good', stem: `g${i}`, path, label: 0 });
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test('after one image fails, the other lanes stop and settle before scoreImages rejects', async () => {
  let started = 0;
  let inFlight = 0;
  const analyzer: EvalAnalyzer = {
    description: 'fails on the first frame',
    provenance: {},
    async analyze(frame) {
      started++;
      inFlight++;
      try {
        if (frame.id === 'good/g0') throw new Error('boom');
        await new Promise((r) => setTimeout(r, 30));
        return { score: 0, map: new Float32Array(4), mapWidth: 2, mapHeight: 2, input: new Float32Array(12), recon: new Float32Array(12) };
      } finally {
        inFlight--;
      }
    },
    async close() {},
  };
  await expect(scoreImages(analyzer, images, { concurrency: 2 })).rejects.toThrow('boom');
  expect(inFlight).toBe(0); // the caller may close the analyzer now
  const startedAtRejection = started;
  await new Promise((r) => setTimeout(r, 100));
  expect(started).toBe(startedAtRejection); // no lane went on through the dataset
  expect(started).toBeLessThan(images.length);
});
