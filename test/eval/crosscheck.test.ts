import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { evaluate } from '../../src/eval/evaluate.js';
import { syntheticAnalyzer, writeSyntheticDataset } from './synthetic.js';
import { PYTHON, needs, tools } from '../helpers/require-tool.js';

/**
 * metrics.json against an independent numpy implementation (test/eval/crosscheck_metrics.py: sklearn-style
 * curves, MVTec AD's compute_pro and trapezoid, its own PNG decoder) reading only eval's output files.
 */

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'mmaerec-eval-xcheck-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

needs(tools.numpy()).test(`numpy recomputation from the output files matches metrics.json (${PYTHON} with numpy)`, async () => {
  const data = await writeSyntheticDataset(join(dir, 'data'), { good: 5, perDefect: 4, unmasked: 1 });
  const out = join(dir, 'out');
  await evaluate({ analyzer: syntheticAnalyzer(24), data, out, saveMaps: true, progress: false, gallery: 0 });
  const report = execFileSync(PYTHON, ['test/eval/crosscheck_metrics.py', out, data], { encoding: 'utf8' });
  const diffs = [...report.matchAll(/^(.+?) +numpy ([\d.]+) +eval ([\d.]+) +diff ([\d.e+-]+)$/gm)];
  expect(diffs.map((d) => d[1])).toEqual(['image AUROC', 'pixel AUROC', 'pixel AP', 'AUPRO']);
  for (const d of diffs) expect(Number(d[4])).toBeLessThan(1e-9);
});
