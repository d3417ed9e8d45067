import { expect, test } from 'vitest';
import { summarizeOffThread } from '../../src/eval/offthread.js';
import type { ScoredImage } from '../../src/eval/score-dataset.js';
import { summarize } from '../../src/eval/summarize.js';

test('metrics computed in a worker thread equal those computed in line', async () => {
  let seed = 5;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const scored: ScoredImage[] = [];
  for (let i = 0; i < 12; i++) {
    const label = i < 5 ? 0 : 1;
    const defect = label ? (i % 2 ? 'a' : 'b') : 'good';
    const map = Float32Array.from({ length: 64 }, () => rand());
    const mask = new Uint8Array(64);
    if (label) for (let p = 9; p < 20; p++) { mask[p] = 1; map[p]! += 0.4; }
    scored.push({ image: { key: `${defect}/${i}`, defect, stem: String(i), path: '', label }, score: Math.max(...map), map, mapWidth: 8, mapHeight: 8, mask });
  }
  const inline = summarize(scored, ['a', 'b'], 0.3);
  const off = await summarizeOffThread(scored, ['a', 'b'], 0.3);
  expect(off).toEqual(inline);
  expect(off.overall.aupro).toBeGreaterThan(0);
});
