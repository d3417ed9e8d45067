/**
 * The label-free scoring choice and false-alarm threshold that `train` makes at export (src/train/export.ts),
 * applied to a bundle that already exists — e.g. one trained before that choice existed, or for another
 * false-alarm budget. It rebuilds the bundle's held-out validation slice from its provenance (the same seeded
 * split `train` made of the same folder), reconstructs those images and synthetic anomalies in copies of them
 * with the bundle itself (ONNX Runtime, the inspection path), chooses the open scoring keys on them, and sets
 * the thresholds. No test image is read.
 *
 *   npx tsx scripts/select-scoring.ts --model models/demo-lite --data ../shared/datasets/magnetic_tile/train/good \
 *     [--rate 0.01] [--write]
 *
 * Differences from training's export, said here so figures are read right: the images go through the
 * inspector as 8-bit frames (training feeds the float synthetic images), and inference is ONNX Runtime, not tfjs.
 */
import { parseArgs } from 'node:util';
import { openBundleAnalyzer } from '../src/eval/bundle-analyzer.js';
import { writeThresholds } from '../src/eval/calibrate.js';
import { loadBundle, MANIFEST_FILE, writeManifestFile } from '../src/model/bundle.js';
import { manifestSchema, scoringSchema } from '../src/model/manifest.js';
import { scoreValidation, thresholdsFromValidation } from '../src/train/calibrate.js';
import { loadDataset, toFloat } from '../src/train/data.js';
import { parseTrainOptions } from '../src/train/options.js';
import { pairScorable, searchableGrid, selectScoring, syntheticAnomalies, type ReconstructedPair } from '../src/train/select-scoring.js';

const { values } = parseArgs({
  options: { model: { type: 'string' }, data: { type: 'string' }, rate: { type: 'string', default: '0.01' }, write: { type: 'boolean', default: false } },
});
if (!values.model || !values.data) {
  console.error('usage: npx tsx scripts/select-scoring.ts --model <bundle> --data <the folder it was trained on> [--rate 0.01] [--write]');
  process.exit(2);
}
const bundle = await loadBundle(values.model);
const prov = bundle.manifest.provenance as { seed?: number; data?: { validation?: number; train?: number; digest?: string }; augment?: unknown };
if (typeof prov.seed !== 'number' || !prov.data?.validation) {
  console.error(`${values.model}: its provenance has no seed or validation count: it was not trained by mmaerec-edge train`);
  process.exit(2);
}
const size = bundle.manifest.input.width;
const fraction = prov.data.validation / (prov.data.validation + (prov.data.train ?? 0));
const data = await loadDataset(values.data, { size, validationFraction: fraction, seed: prov.seed });
if (prov.data.digest && data.digest !== prov.data.digest) {
  console.error(`${values.data}: not the data ${values.model} was trained on (digest differs): pass the training folder`);
  process.exit(2);
}
const options = parseTrainOptions({ data: values.data, out: '-', seed: prov.seed, ...(prov.augment ? { augment: prov.augment } : {}) });

// the bundle's reconstructions, as the line computes them; its own scoring is irrelevant here (maps are rescored)
const analyzer = await openBundleAnalyzer(values.model, { threads: 1 });
const reconstruct = async (images: Float32Array[]): Promise<ReconstructedPair[]> => {
  const out: ReconstructedPair[] = [];
  for (const [i, img] of images.entries()) {
    const bytes = Uint8Array.from(img, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
    const a = await analyzer.analyze({ id: `v${i}`, capturedAt: Date.now(), image: { width: size, height: size, channels: 3, data: bytes } });
    out.push({ input: a.input, recon: a.recon });
  }
  return out;
};
const cleanImages = data.validation.pixels.map(toFloat);
const clean = await reconstruct(cleanImages);
const anomalous = await reconstruct(syntheticAnomalies(cleanImages, size, options.augment, prov.seed));
await analyzer.close();

const base = scoringSchema.parse({});
const selection = await selectScoring({ clean: clean.map((p) => pairScorable(p, size)), anomalous: anomalous.map((p) => pairScorable(p, size)), base, grid: searchableGrid({}) });
const calibration = thresholdsFromValidation(await scoreValidation(clean.map((p) => pairScorable(p, size)), selection.scoring), Number(values.rate));
console.log(`${values.model}: ${selection.on}`);
console.log(`paper scoring: synthetic image AUROC ${selection.baseAuroc.toFixed(4)}; chosen ${JSON.stringify(selection.top[0]!.setting)}: ${selection.auroc.toFixed(4)}`);
for (const t of selection.top) console.log(`  ${t.auroc.toFixed(4)}  ${JSON.stringify(t.setting)}`);
console.log(`scoring ${JSON.stringify(selection.scoring)}`);
console.log(`thresholds image ${calibration.thresholds.image.toPrecision(5)}, pixel ${calibration.thresholds.pixel.toPrecision(5)}: ${calibration.thresholds.source}`);
for (const w of calibration.warnings) console.log(`warning: ${w}`);

if (values.write) {
  const manifest = manifestSchema.parse({
    ...bundle.manifest,
    scoring: selection.scoring,
    provenance: {
      ...bundle.manifest.provenance,
      scoringSelection: { on: selection.on, searched: selection.searched, candidates: selection.candidates, chosen: selection.top[0]!.setting, auroc: selection.auroc, paperAuroc: selection.baseAuroc, top: selection.top, by: 'scripts/select-scoring.ts (ONNX Runtime, 8-bit frames)' },
    },
  });
  await writeManifestFile(bundle.dir, manifest);
  const sha = await writeThresholds(bundle.dir, calibration.thresholds, { rule: 'false-alarm', rate: Number(values.rate), split: 'train validation', warnings: calibration.warnings, by: 'scripts/select-scoring.ts' });
  console.log(`wrote ${bundle.dir}/${MANIFEST_FILE} (sha256 ${sha.slice(0, 12)}…)`);
}
