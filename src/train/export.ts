/**
 * Turns the network being trained into a ready bundle: reconstruct the held-out good images (and synthetic
 * anomalies in copies of them), choose the scoring keys the config leaves open on those (select-scoring.ts),
 * set the thresholds by the documented rule (calibrate.ts), and write the bundle with MODEL's writer and the
 * run's provenance. Used at the end of training and for interim snapshots. No test label is used anywhere.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolve, sep } from 'node:path';
import { sha256Hex } from '../util/sha256.js';
import { createBundle, writeBundle, type LoadedBundle } from '../model/bundle.js';
import type { ModelConfig } from '../model/config.js';
import type { ScoringOptions } from '../model/manifest.js';
import type { TfjsNetwork } from '../model/tfjs-executor.js';
import type { BackendChoice } from './backend.js';
import { imageTensors } from './batch.js';
import { scoreValidation, thresholdsFromValidation } from './calibrate.js';
import { toFloat, type Dataset } from './data.js';
import { cropTile, tileLayout, tilesOf } from '../preprocess/tiles.js';
import { pairScorable, searchableGrid, selectScoring, syntheticAnomalies, tiledScorable, type ReconstructedPair, type Scorable, type ScoringSelection } from './select-scoring.js';
import { bundleScoring, type TrainOptions } from './options.js';
import { formatDuration } from './progress.js';
import { fillFeatureBank, type BankFill } from './feature-bank.js';
import { spread } from '../util/spread.js';
import { choosePositionNorm } from './position-choice.js';

/** Model-size images (or tiles) the feature bank's patches are collected from. */
const MAX_BANK_IMAGES = 240;

export interface ExportContext {
  net: TfjsNetwork;
  config: ModelConfig;
  data: Dataset;
  options: TrainOptions;
  backend: BackendChoice;
  step: number;
  lastLoss: { total: number; l2: number; ssim: number; entropy: number };
  durationMs: number;
  /** Licence/attribution of the --backbone weights (import-backbone's record), for the bundle's provenance. */
  backboneAttribution?: Record<string, unknown>;
  /** One line per finished phase: on a large set the export takes minutes, and silence reads as a hang. */
  log?: (line: string) => void;
  /**
   * The fill an earlier export of the same run left in the network's bank: reused when the backbone is frozen,
   * because the bank depends only on the backbone, the training images and the seed (filling costs minutes).
   */
  bankFilled?: BankFill;
}

/**
 * Reconstructs HWC float images with `net` in inference mode, `batch` at a time; with a feature bank, each
 * image's distance map comes from the same pass.
 */
async function reconstruct(net: TfjsNetwork, images: Float32Array[], size: number, batch: number): Promise<ReconstructedPair[]> {
  const pairs: ReconstructedPair[] = [];
  const per = size * size * 3;
  const bank = net.graph.outputs.featureBank !== undefined;
  for (let i = 0; i < images.length; i += batch) {
    const chunk = images.slice(i, i + batch);
    const { image: tImage, edge: tEdge } = await imageTensors(chunk, size);
    const r = net.forward(tImage, tEdge, { training: false, ...(bank ? { featureBank: 'distance' as const } : {}) });
    const recon = (await r.recon.data()) as Float32Array;
    const dist = r.featureBank?.distance;
    const distance = dist ? ((await dist.data()) as Float32Array) : undefined;
    const cells = dist ? dist.shape[1] * dist.shape[2] : 0;
    chunk.forEach((img, k) => pairs.push({
      input: img, recon: recon.slice(k * per, (k + 1) * per),
      ...(distance ? { distance: distance.slice(k * cells, (k + 1) * cells) } : {}),
    }));
    tf.dispose([tImage, tEdge, r.recon, ...(dist ? [dist] : []), ...r.addressing.map((a) => a.weights)]);
  }
  return pairs;
}

/**
 * Reconstructs whole validation images (float HWC at their working size, or model size untiled) as the line
 * will see them: untiled, one inference each; tiled, every tile of the layout, for maps stitched at scoring.
 */
async function reconstructImages(net: TfjsNetwork, images: Float32Array[], dims: { width: number; height: number }[] | undefined, o: TrainOptions, size: number): Promise<Scorable[]> {
  if (!o.tiling || !dims) return (await reconstruct(net, images, size, o.batch)).map((p) => pairScorable(p, size));
  const out: Scorable[] = [];
  for (const [i, img] of images.entries()) {
    const { width, height } = dims[i]!;
    // the working image is already at the short edge: lay the tiles out on it as inspection does
    const layout = tileLayout(width, height, { shortEdge: Math.min(width, height), overlap: o.tiling.overlap }, size);
    const tiles = tilesOf(layout).map(({ x, y }) => cropTile(img, width, 3, x, y, size));
    const pairs = await reconstruct(net, tiles, size, o.batch);
    const distances = pairs.every((p) => p.distance) ? pairs.map((p) => p.distance!) : undefined;
    out.push(tiledScorable(tiles, pairs.map((p) => p.recon), layout, distances));
  }
  return out;
}

/**
 * The scoring: the config's keys, and for the keys it leaves open (shading window, μ, margin) the best on
 * held-out good vs synthetic anomalies — unless `selectScoring` is off or the slice is too small to rank.
 */
async function chooseScoring(net: TfjsNetwork, data: Dataset, o: TrainOptions, clean: Scorable[], images: Float32Array[]): Promise<{ scoring: ScoringOptions; selection?: ScoringSelection; anomalous?: Scorable[] }> {
  const base = bundleScoring(o);
  const featureGrid = bankGrid(net);
  const grid = searchableGrid({ ...o.scoring, ...(o.aggregation ? { aggregation: o.aggregation } : {}) }, undefined, { featureBank: featureGrid !== undefined });
  if (!o.selectScoring || Object.keys(grid).length === 0 || clean.length < 4) return { scoring: base };
  const val = data.validation;
  const synthetic = syntheticAnomalies(images, val.dims ?? val.size, o.augment, o.seed);
  const anomalous = await reconstructImages(net, synthetic, val.dims, o, val.size);
  const selection = await selectScoring({ clean, anomalous, base, grid, ...(featureGrid ? { featureGrid } : {}) });
  return { scoring: selection.scoring, selection, anomalous };
}

/** The feature distance map's size of a network with a feature bank. */
function bankGrid(net: TfjsNetwork): { width: number; height: number } | undefined {
  const bank = net.graph.outputs.featureBank;
  if (!bank) return undefined;
  const [, height, width] = net.graph.shapes.get(bank.distance)!;
  return { width, height };
}

/** Good training images (not the held-out slice) the position statistics come from, spread over the set. */
const POSITION_STATS_IMAGES = 64;

/** Reconstructed training images for the position statistics, as the held-out ones are (tiled or not). */
async function trainScorables(net: TfjsNetwork, data: Dataset, o: TrainOptions): Promise<Scorable[]> {
  const idx = spread(data.train.pixels.map((_, i) => i), POSITION_STATS_IMAGES);
  const dims = data.train.dims ? idx.map((i) => data.train.dims![i]!) : undefined;
  return reconstructImages(net, idx.map((i) => toFloat(data.train.pixels[i]!)), dims, o, data.train.size);
}

/** Model-size training inputs for the feature bank: the images, or (tiled) their tiles, spread over the set. */
function bankImages(data: Dataset, o: TrainOptions): Float32Array[] {
  const train = data.train;
  const size = train.size;
  if (!o.tiling || !train.dims) return spread(train.pixels, MAX_BANK_IMAGES).map(toFloat);
  const cuts: { image: number; x: number; y: number }[] = [];
  train.dims.forEach(({ width, height }, image) => {
    const layout = tileLayout(width, height, { shortEdge: Math.min(width, height), overlap: o.tiling!.overlap }, size);
    for (const { x, y } of tilesOf(layout)) cuts.push({ image, x, y });
  });
  return spread(cuts, MAX_BANK_IMAGES).map(({ image, x, y }) => cropTile(toFloat(train.pixels[image]!), train.dims![image]!.width, 3, x, y, size));
}

/** A logger that prefixes each line with the seconds since the export began. */
function phaseLog(log: ((line: string) => void) | undefined): (line: string) => void {
  const t0 = Date.now();
  return (line) => log?.(`export (${((Date.now() - t0) / 1000).toFixed(0)} s): ${line}`);
}

/** Calibrates and writes a bundle to `dir`; returns it with MODEL's warnings and the bank's fill (if any). */
export async function exportBundle(dir: string, c: ExportContext): Promise<{ bundle: LoadedBundle; warnings: string[]; bankFill?: BankFill }> {
  const o = c.options;
  const val = c.data.validation;
  const images = val.pixels.map(toFloat);
  const phase = phaseLog(c.log);
  const reuse = c.bankFilled !== undefined && !c.net.config.backbone.trainable;
  const bankFill = !c.net.config.featureBank ? undefined
    : reuse ? c.bankFilled : await fillFeatureBank(c.net, bankImages(c.data, o), c.data.train.size, { batch: o.batch, seed: o.seed });
  if (bankFill) phase(`feature bank${reuse ? ' (the frozen backbone\'s, filled at the first export)' : ''}: ${bankFill.items} items from ${bankFill.patches} patches of ${bankFill.images} training ${o.tiling ? 'tiles' : 'images'}`);
  const clean = await reconstructImages(c.net, images, val.dims, o, val.size);
  phase(`reconstructed ${images.length} held-out good images`);
  const { scoring, selection, anomalous } = await chooseScoring(c.net, c.data, o, clean, images);
  const fusion = selection?.fusion;
  if (selection) phase(`scoring chosen on held-out good vs synthetic anomalies: ${JSON.stringify(selection.top[0]?.setting ?? null)} (AUROC ${selection.auroc.toFixed(4)})`);
  const position = o.positionNorm && anomalous ? await choosePositionNorm({ train: await trainScorables(c.net, c.data, o), clean, anomalous, scoring, ...(fusion ? { fusion } : {}) }) : undefined;
  const norm = position?.norm;
  if (position) phase(`position normalisation ${norm ? 'kept' : 'left out'} (synthetic AUROC off ${position.auroc.off.toFixed(4)}, on ${position.auroc.on.toFixed(4)})`);
  // thresholds with the bundle's own scoring, on the scale of the scores it will produce
  const calibration = thresholdsFromValidation(await scoreValidation(clean, scoring, fusion, norm), o.falseAlarmRate);
  const thresholds = calibration.thresholds;
  const d = c.data;
  const contents = await createBundle({
    config: c.config,
    weights: c.net.exportWeights(),
    backboneSource: o.backbone ? (o.backbone.startsWith('default: ') ? o.backbone : `--backbone ${o.backbone}`) : `random (${o.noPretrained})`,
    ...(c.backboneAttribution ? { backboneAttribution: c.backboneAttribution } : {}),
    seed: o.seed,
    scoring,
    thresholds,
    ...(o.tiling ? { tiling: o.tiling } : {}),
    ...(fusion ? { featureFusion: fusion } : {}),
    ...(norm ? { positionNorm: norm } : {}),
    ...(o.name ? { name: o.name } : {}),
    provenance: {
      trainedBy: 'mmaerec-edge train',
      command: o.command ?? null,
      // no path of the training machine: the folder's last two parts, the files relative to it, and hashes
      data: {
        folder: resolve(o.data).split(sep).filter(Boolean).slice(-2).join('/'), digest: d.digest,
        fileListSha256: sha256Hex([...d.train.files, ...d.validation.files].sort().join('\n')),
        images: d.train.files.length + d.validation.files.length, train: d.train.files.length, validation: d.validation.files.length,
        validationFiles: d.validation.files,
      },
      steps: c.step,
      batch: o.batch,
      lr: o.lr,
      finalLoss: c.lastLoss,
      backend: c.backend.name,
      durationMs: c.durationMs,
      duration: formatDuration(c.durationMs),
      noPretrained: o.backbone ? null : o.noPretrained,
      augment: o.augment,
      scoringSelection: selection
        ? { on: selection.on, searched: selection.searched, candidates: selection.candidates, chosen: selection.top[0]?.setting ?? null,
            auroc: selection.auroc, paperAuroc: selection.baseAuroc, top: selection.top }
        : { off: o.selectScoring ? 'every scoring key fixed by the config, or fewer than 4 held-out images' : 'selectScoring: false' },
      thresholdRule: calibration.thresholds.operatingPoint ?? null,
      positionNorm: position ? { chosen: norm !== undefined, syntheticAuroc: position.auroc, statsImages: position.statsImages, from: 'training images (not the held-out slice)' } : null,
      featureBank: bankFill ? { ...bankFill, from: 'training images (not the held-out slice)', coreset: 'greedy k-centre', fusedWithAlpha: fusion?.alpha ?? 0 } : null,
    },
  });
  return { bundle: await writeBundle(dir, contents), warnings: [...contents.warnings, ...calibration.warnings], ...(bankFill ? { bankFill } : {}) };
}
