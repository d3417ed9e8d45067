/**
 * Runs training's export step (src/train/export.ts) again on a bundle that exists, with today's export: the
 * label-free scoring choice, the false-alarm threshold and — with --feature-bank — a feature bank filled from
 * the training images and its fusion chosen on held-out good images vs synthetic anomalies. The weights are the
 * bundle's; the held-out slice is rebuilt from its provenance (the same seeded split `train` made of the same
 * folder). No test image is read. Used to measure the feature bank on bundles trained before it existed, and to
 * compare it on and off on the same weights.
 *
 *   npx tsx scripts/re-export.ts --model <bundle> --data <its training folder> --out <new bundle> [--feature-bank] [--items 4096] [--bank-levels 2,3]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { loadBundle, loadBundleWeights } from '../src/model/bundle.js';
import { buildNetwork } from '../src/model/network.js';
import { parseModelConfig } from '../src/model/config.js';
import { TfjsNetwork } from '../src/model/tfjs-executor.js';
import { selectTrainBackend } from '../src/train/backend.js';
import { loadDataset } from '../src/train/data.js';
import { exportBundle } from '../src/train/export.js';
import { parseTrainOptions } from '../src/train/options.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' },
    'feature-bank': { type: 'boolean', default: false }, items: { type: 'string', default: '4096' },
    'bank-levels': { type: 'string', default: '2,3' },
  },
});
if (!values.model || !values.data || !values.out) {
  console.error('usage: npx tsx scripts/re-export.ts --model <bundle> --data <its training folder> --out <new bundle> [--feature-bank] [--items 4096] [--bank-levels 2,3]');
  process.exit(2);
}
const bundle = await loadBundle(values.model);
type Prov = { seed?: number; steps?: number; batch?: number; lr?: number; augment?: unknown; finalLoss?: { total: number; l2: number; ssim: number; entropy: number }; durationMs?: number; data?: { validation?: number; train?: number; digest?: string } };
const prov = bundle.manifest.provenance as Prov;
if (typeof prov.seed !== 'number' || !prov.data?.validation) {
  console.error(`${values.model}: its provenance has no seed or validation count: it was not trained by mmaerec-edge train`);
  process.exit(2);
}
const config = parseModelConfig({ ...bundle.config, ...(values['feature-bank'] ? { featureBank: { items: Number(values.items), levels: values['bank-levels'].split(',').map(Number) } } : {}) });
const weights = await loadBundleWeights(bundle);
// a bank is filled again below: the bundle's own (maybe of other levels or size) must not shape the new one
if (values['feature-bank']) for (const name of [...weights.keys()]) if (name.startsWith('featureBank')) weights.delete(name);
for (const p of buildNetwork(config).params) if (!weights.has(p.name)) weights.set(p.name, { shape: [...p.shape], data: new Float32Array(p.shape.reduce((a, b) => a * b, 1)) });

const tiling = bundle.manifest.input.tiling;
const fraction = prov.data.validation / (prov.data.validation + (prov.data.train ?? 0));
const options = parseTrainOptions({
  data: values.data, out: values.out, seed: prov.seed, validationFraction: fraction, batch: prov.batch ?? 4,
  ...(prov.augment ? { augment: prov.augment } : {}), ...(tiling ? { tiling } : {}), name: bundle.manifest.name,
  // only its label reaches the provenance: the weights are the bundle's
  ...(bundle.manifest.provenance.backbone !== 'random' ? { backbone: `the backbone of ${bundle.manifest.name}` } : {}),
  command: `scripts/re-export.ts --model ${bundle.manifest.name}${values['feature-bank'] ? ` --feature-bank --items ${values.items} --bank-levels ${values['bank-levels']}` : ''}`,
});
const data = await loadDataset(values.data, { size: config.inputSize, validationFraction: fraction, seed: prov.seed, ...(tiling ? { tiling } : {}) });
if (prov.data.digest && data.digest !== prov.data.digest) {
  console.error(`${values.data}: not the data ${values.model} was trained on (digest differs): pass the training folder`);
  process.exit(2);
}
const backend = await selectTrainBackend('auto');
const net = new TfjsNetwork(tf, config, weights);
const t0 = Date.now();
const { bundle: written, warnings } = await exportBundle(values.out, {
  net, config, data, options, backend, step: prov.steps ?? 0,
  lastLoss: prov.finalLoss ?? { total: NaN, l2: NaN, ssim: NaN, entropy: NaN }, durationMs: prov.durationMs ?? 0,
  log: (line: string) => console.log(line),
  ...((bundle.manifest.provenance as { backboneWeights?: Record<string, unknown> }).backboneWeights ? { backboneAttribution: (bundle.manifest.provenance as { backboneWeights: Record<string, unknown> }).backboneWeights } : {}),
});
net.dispose();
const m = written.manifest;
const sel = (m.provenance as { scoringSelection?: { chosen?: unknown; auroc?: number } }).scoringSelection;
console.log(`wrote ${written.dir} in ${((Date.now() - t0) / 1000).toFixed(0)} s: scoring ${JSON.stringify(sel?.chosen)} (synthetic AUROC ${sel?.auroc?.toFixed(4)}), fusion ${JSON.stringify(m.featureFusion ?? null)}, thresholds image ${m.thresholds.image.toPrecision(4)} pixel ${m.thresholds.pixel.toPrecision(4)}`);
for (const w of warnings) console.log(`warning: ${w}`);
