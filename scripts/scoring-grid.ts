/**
 * Which scoring suits a product? Reconstructs every test image of an MVTec-layout dataset once with a bundle,
 * then scores the same input/reconstruction pairs under every combination of a grid of scoring keys and prints
 * image AUROC — on a "select" half of the test images (even positions in dataset order), on the held-out half
 * (odd positions) and on all. Choose on the select half, report the held-out figure: the test split is then not
 * also the tuning set. (`eval --scoring` evaluates one choice fully: pixel metrics, per defect, report.)
 *
 *   npx tsx scripts/scoring-grid.ts --model models/demo-lite --data ../shared/datasets/magnetic_tile \
 *     [--grid '{shadingWindow: [0, 17], mu: [0.001, 0.002], margin: [0, 0.08]}'] [--top 12]
 *
 * Grid keys: any scoring key (docs/configuration.md) with a list of values, plus `margin` (aggregation.margin,
 * kept with the bundle's aggregation kind). Keys not in the grid keep the bundle's values.
 */
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { openBundleAnalyzer } from '../src/eval/bundle-analyzer.js';
import { readDataset } from '../src/eval/dataset.js';
import { imageAuroc } from '../src/eval/metrics.js';
import { scoreImages } from '../src/eval/score-dataset.js';
import type { ScoringOptions } from '../src/model/manifest.js';
import { fusedScore, resolveScoringOptions } from '../src/score/fused.js';
import { aggregateRef } from '../src/score/reference/fused.js';

const DEFAULT_GRID = '{shadingWindow: [0, 9, 17, 25, 33], mu: [0.001, 0.002, 0.005], margin: [0, 0.04, 0.08, 0.12]}';
const { values } = parseArgs({
  options: { model: { type: 'string' }, data: { type: 'string' }, grid: { type: 'string', default: DEFAULT_GRID }, top: { type: 'string', default: '12' } },
});
if (!values.model || !values.data) {
  console.error('usage: npx tsx scripts/scoring-grid.ts --model <bundle> --data <MVTec-layout dataset> [--grid <yaml mapping of lists>] [--top n]');
  process.exit(2);
}
const grid = parseYaml(values.grid!) as Record<string, unknown[]>;
if (!grid || typeof grid !== 'object' || Object.values(grid).some((v) => !Array.isArray(v) || v.length === 0)) {
  console.error(`--grid must map scoring keys to non-empty lists, e.g. ${DEFAULT_GRID}`);
  process.exit(2);
}

const analyzer = await openBundleAnalyzer(values.model, { threads: 1 });
const base = (analyzer.provenance as { scoring: ScoringOptions }).scoring;
const dataset = await readDataset(values.data);
const pairs = new Map<string, { input: Float32Array; recon: Float32Array; size: number }>();
const scored = await scoreImages(analyzer, dataset.test, {
  progress: 'reconstruct',
  onImage: (s, a) => void pairs.set(s.image.key, { input: a.input, recon: a.recon, size: s.mapWidth }),
});
await analyzer.close();
const labels = scored.map((s) => s.image.label);
const all = labels.map((_, i) => i);
const [select, heldOut] = [0, 1].map((parity) => all.filter((i) => i % 2 === parity)) as [number[], number[]];
const auroc = (scores: number[], idx: number[]) => imageAuroc(idx.map((i) => scores[i]!), idx.map((i) => labels[i]!));

// Every combination of the grid (margin is applied when aggregating, so maps are computed once per rest).
const { margin: margins = [base.aggregation.margin ?? 0], ...mapKeys } = grid;
const combos: Record<string, unknown>[] = Object.entries(mapKeys).reduce<Record<string, unknown>[]>(
  (acc, [k, vs]) => acc.flatMap((c) => vs.map((v) => ({ ...c, [k]: v }))),
  [{}],
);
const rows: { setting: string; select: number; heldOut: number; all: number }[] = [];
for (const combo of combos) {
  const o = resolveScoringOptions({ ...base, ...combo } as Partial<ScoringOptions>);
  const maps = await Promise.all(scored.map(async (s) => {
    const p = pairs.get(s.image.key)!;
    return (await fusedScore(p.input, p.recon, p.size, p.size, o)).map;
  }));
  for (const margin of margins as number[]) {
    const aggregation = { ...o.aggregation, margin };
    const scores = maps.map((m, i) => aggregateRef(m, aggregation, scored[i]!.mapWidth, scored[i]!.mapHeight));
    rows.push({ setting: JSON.stringify({ ...combo, margin }), select: auroc(scores, select), heldOut: auroc(scores, heldOut), all: auroc(scores, all) });
  }
}
rows.sort((a, b) => b.select - a.select);
const own = scored.map((s) => s.score);
console.log(`${values.model}: ${scored.length} test images (${select.length} select / ${heldOut.length} held out), bundle scoring ${JSON.stringify(base)}`);
console.log('image AUROC   select  held-out    all   setting');
console.log(`              ${auroc(own, select).toFixed(4)}  ${auroc(own, heldOut).toFixed(4)}  ${auroc(own, all).toFixed(4)}   (the bundle's own scoring)`);
for (const r of rows.slice(0, Number(values.top))) console.log(`              ${r.select.toFixed(4)}  ${r.heldOut.toFixed(4)}  ${r.all.toFixed(4)}   ${r.setting}`);
