/**
 * Turns the network being trained into a ready bundle: reconstruct the held-out good images, score them with
 * the bundle's own scoring, set the thresholds by the documented rule (calibrate.ts), and write the bundle
 * with MODEL's writer and the run's provenance. Used at the end of training and for interim snapshots.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolve } from 'node:path';
import { createBundle, writeBundle, type LoadedBundle } from '../model/bundle.js';
import type { ModelConfig } from '../model/config.js';
import type { ScoringOptions } from '../model/manifest.js';
import type { TfjsNetwork } from '../model/tfjs-executor.js';
import type { BackendChoice } from './backend.js';
import { cleanBatch } from './batch.js';
import { scoreValidation, thresholdsFromValidation, type ValidationThresholds } from './calibrate.js';
import type { Dataset } from './data.js';
import { bundleScoring, type TrainOptions } from './options.js';
import { formatDuration } from './progress.js';

export interface ExportContext {
  net: TfjsNetwork;
  config: ModelConfig;
  data: Dataset;
  options: TrainOptions;
  backend: BackendChoice;
  step: number;
  lastLoss: { total: number; l2: number; ssim: number; entropy: number };
  durationMs: number;
}

/** Thresholds from the validation slice, reconstructed by `net` in inference mode and scored with `scoring`. */
async function calibrateOnValidation(net: TfjsNetwork, data: Dataset, o: TrainOptions, scoring: ScoringOptions): Promise<ValidationThresholds> {
  const size = data.validation.size;
  const pairs: { input: Float32Array; recon: Float32Array }[] = [];
  const val = data.validation;
  const per = size * size * 3;
  for (let i = 0; i < val.pixels.length; i += o.batch) {
    const idx = Array.from({ length: Math.min(o.batch, val.pixels.length - i) }, (_, k) => i + k);
    const b = await cleanBatch(val, idx);
    const r = net.forward(b.image, b.edge, { training: false });
    const recon = (await r.recon.data()) as Float32Array;
    idx.forEach((_, k) => pairs.push({ input: b.hwc[k]!, recon: recon.slice(k * per, (k + 1) * per) }));
    tf.dispose([b.image, b.edge, r.recon, ...r.addressing.map((a) => a.weights)]);
  }
  return thresholdsFromValidation(await scoreValidation(pairs, size, scoring), o.falseAlarmRate);
}

/** Calibrates and writes a bundle to `dir`; returns it with MODEL's warnings. */
export async function exportBundle(dir: string, c: ExportContext): Promise<{ bundle: LoadedBundle; warnings: string[] }> {
  const o = c.options;
  // The bundle's scoring, so that its thresholds are on the scale of the scores it will produce.
  const scoring = bundleScoring(o);
  const calibration = await calibrateOnValidation(c.net, c.data, o, scoring);
  const thresholds = calibration.thresholds;
  const d = c.data;
  const contents = await createBundle({
    config: c.config,
    weights: c.net.exportWeights(),
    backboneSource: o.backbone ? `--backbone ${o.backbone}` : `random (${o.noPretrained})`,
    seed: o.seed,
    scoring,
    thresholds,
    ...(o.name ? { name: o.name } : {}),
    provenance: {
      trainedBy: 'mmaerec-edge train',
      command: o.command ?? null,
      data: { folder: resolve(o.data), digest: d.digest, images: d.train.files.length + d.validation.files.length, train: d.train.files.length, validation: d.validation.files.length },
      steps: c.step,
      batch: o.batch,
      lr: o.lr,
      finalLoss: c.lastLoss,
      backend: c.backend.name,
      durationMs: c.durationMs,
      duration: formatDuration(c.durationMs),
      noPretrained: o.backbone ? null : o.noPretrained,
      augment: o.augment,
    },
  });
  return { bundle: await writeBundle(dir, contents), warnings: [...contents.warnings, ...calibration.warnings] };
}
