/**
 * Training options: one zod schema for the CLI flags, the `--config` file's `train` section and the
 * `train()` API, validated once at the edge (docs/training.md lists every field).
 */
import { z } from 'zod';
import { MmaerecError } from '../errors.js';
import { DEFAULT_AUGMENT } from './augment.js';
import { aggregationSchema, scoringSchema, type ScoringOptions } from '../model/manifest.js';
import { resolveScoringOptions } from '../score/fused.js';

export const NO_PRETRAINED_STRATEGIES = ['skip-memory', 'bn-reestimate', 'train-backbone', 'frozen'] as const;
export type NoPretrainedStrategy = (typeof NO_PRETRAINED_STRATEGIES)[number];

const augmentSchema = z.strictObject({
  perlinP: z.number().min(0).max(1).default(DEFAULT_AUGMENT.perlinP),
  perlinMinExp: z.number().int().min(0).max(8).default(DEFAULT_AUGMENT.perlinMinExp),
  perlinMaxExp: z.number().int().min(1).max(9).default(DEFAULT_AUGMENT.perlinMaxExp),
  perlinThreshold: z.number().default(DEFAULT_AUGMENT.perlinThreshold),
  betaMax: z.number().min(0).max(1).default(DEFAULT_AUGMENT.betaMax),
  hueShift: z.number().min(0).max(0.5).default(DEFAULT_AUGMENT.hueShift),
  brightnessShift: z.number().min(0).max(1).default(DEFAULT_AUGMENT.brightnessShift),
  cutPasteP: z.number().min(0).max(1).default(DEFAULT_AUGMENT.cutPasteP),
  cutPasteMinSize: z.number().gt(0).max(1).default(DEFAULT_AUGMENT.cutPasteMinSize),
  cutPasteMaxSize: z.number().gt(0).max(1).default(DEFAULT_AUGMENT.cutPasteMaxSize),
  cutPasteMaxAngle: z.number().min(0).max(180).default(DEFAULT_AUGMENT.cutPasteMaxAngle),
  rotateP: z.number().min(0).max(1).default(DEFAULT_AUGMENT.rotateP),
  rotateMaxAngle: z.number().min(0).max(180).default(DEFAULT_AUGMENT.rotateMaxAngle),
});

export const trainOptionsSchema = z.strictObject({
  /** Folder tree of good images. */
  data: z.string().min(1),
  /** Bundle folder to write (checkpoints go to <out>/checkpoint). */
  out: z.string().min(1),
  /** The network preset; 'edge' (default) is the recipe measured in BENCHMARKS.md, lite at half width. */
  preset: z.enum(['edge', 'lite', 'paper']).default('edge'),
  /** Overrides deep-merged into the preset's network config (e.g. { inputSize: 64 }). */
  model: z.record(z.string(), z.unknown()).default({}),
  /** Total optimiser steps; `epochs` converts to steps (ceil(train images / batch) per epoch). */
  steps: z.number().int().positive().optional(),
  epochs: z.number().int().positive().optional(),
  batch: z.number().int().positive().max(256).default(4),
  /**
   * Initial learning rate. The paper does not give it; EdgRec and MemAE use 1e-4 over long GPU runs. The default
   * recipe's half hour on a CPU (750 steps) needs 1e-3 (BENCHMARKS.md, "Training").
   */
  lr: z.number().positive().max(1).default(1e-3),
  lrFactor: z.number().positive().max(1).default(0.2),
  lrMilestones: z.array(z.number().gt(0).lt(1)).default([0.5, 0.8]),
  seed: z.number().int().min(0).default(0),
  /** Imported backbone weights (.safetensors with backbone.* tensors, see import-backbone). */
  backbone: z.string().optional(),
  /**
   * Without `backbone`: 'auto' (default) uses the pretrained MobileNetV2 of the nsfwjs package when it is
   * installed (train/default-backbone.ts); 'none' keeps the backbone random (then `noPretrained` applies).
   */
  pretrained: z.enum(['auto', 'none']).default('auto'),
  /** What to do about a randomly initialised backbone (no --backbone); see docs/training.md. */
  noPretrained: z.enum(NO_PRETRAINED_STRATEGIES).default('skip-memory'),
  /**
   * The feature bank (model config featureBank; docs/architecture.md, "Feature distance"): a coreset of the
   * backbone's patch features of the training images, whose nearest-item distance is fused into the map.
   * 'auto' (default): on with a pretrained --backbone, off with a random one.
   */
  featureBank: z.union([z.boolean(), z.literal('auto')]).default('auto'),
  /** Batches of clean training images used to re-estimate the backbone's BatchNorm statistics. */
  bnBatches: z.number().int().positive().default(16),
  resume: z.boolean().default(false),
  checkpointEvery: z.number().int().positive().default(200),
  /** Also write an interim, calibrated bundle every N steps to <out>/snapshots/step-N (learning curves). */
  snapshotEvery: z.number().int().positive().optional(),
  /** Keep <out>/checkpoint after the bundle is written (default: removed, the bundle stays small). */
  keepCheckpoint: z.boolean().default(false),
  validationFraction: z.number().gt(0).lt(1).default(0.1),
  /** Use only the first N images of the folder (quick experiments). */
  limit: z.number().int().positive().optional(),
  backend: z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  /** θ and α of eq. 6. */
  ssimWeight: z.number().min(0).default(1),
  entropyWeight: z.number().min(0).default(0.0002),
  augment: augmentSchema.default(augmentSchema.parse({})),
  /**
   * The bundle's scoring (manifest `scoring`: scales, μ, windows, shadingWindow, aggregation, …); omitted keys
   * take the paper's values. The thresholds are calibrated with it, so it is fixed at training time.
   */
  scoring: z
    .record(z.string(), z.unknown())
    .default({})
    // validated key by key, but kept as given: the keys left out are the ones export may choose (select-scoring.ts)
    .superRefine((v, ctx) => {
      const r = scoringSchema.partial().strict().safeParse(v);
      if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    })
    .transform((v) => v as Partial<ScoringOptions>),
  /**
   * Choose the scoring keys that `scoring` leaves open (shadingWindow, mu, aggregation margin) on the held-out
   * good images against synthetic anomalies in copies of them (train/select-scoring.ts; never test labels).
   */
  selectScoring: z.boolean().default(true),
  /**
   * Tiled training and inspection (preprocess/tiles.ts): images keep their aspect ratio at this short edge and the
   * network learns model-size tiles of them; the bundle inspects frames tile by tile at the same scale. Absent:
   * every image is stretched to the model input (the paper's protocol).
   */
  tiling: z.strictObject({
    shortEdge: z.number().int().positive().max(16384),
    overlap: z.number().min(0).max(0.9).default(0.25),
  }).optional(),
  /**
   * Offer the per-position normalisation of the map (score/position-norm.ts) at export: kept only if it separates
   * held-out good images from synthetic anomalies better than the map without it (train/position-choice.ts).
   */
  positionNorm: z.boolean().default(true),
  /**
   * Without `tiling`: tile images whose median long/short side ratio is ≥ 1.5, at a short edge of twice the
   * model input (train/auto-tiling.ts); false stretches every image to the model input (the paper's protocol).
   */
  autoTiling: z.boolean().default(true),
  /** Shorthand for scoring.aggregation (the `--aggregation` flag); wins over it when both are given. */
  aggregation: aggregationSchema.optional(),
  /**
   * The false-alarm rate the image threshold is set for on the held-out good images (a fraction; default 1 %).
   * A plant's budget: the threshold is the fitted tail quantile of good scores (docs/training.md, "Thresholds").
   */
  falseAlarmRate: z.number().gt(0).lt(0.5).default(0.01),
  /** Bundle name in the manifest. */
  name: z.string().optional(),
  /** The command line, recorded in the manifest's provenance. */
  command: z.string().optional(),
  /** Progress on stderr (false in tests and benchmarks). */
  progress: z.boolean().default(true),
});

export type TrainOptions = z.infer<typeof trainOptionsSchema>;
export type TrainOptionsInput = z.input<typeof trainOptionsSchema>;

/** Validates options; the error names the field and the fix. */
export function parseTrainOptions(value: unknown, source = 'train options'): TrainOptions {
  const r = trainOptionsSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : '(root)';
    throw new MmaerecError('E_CONFIG', `${source}: ${where}: ${issue.message}: fix that value (see docs/training.md)`);
  }
  // asking for a random-backbone strategy is asking for a random backbone
  const asked = value as { noPretrained?: unknown; pretrained?: unknown } | null;
  const o = asked && asked.noPretrained !== undefined && asked.pretrained === undefined ? { ...r.data, pretrained: 'none' as const } : r.data;
  if (o.steps !== undefined && o.epochs !== undefined) {
    throw new MmaerecError('E_CONFIG', `${source}: both steps and epochs given: pass only one of --steps / --epochs`);
  }
  if (o.augment.cutPasteMinSize > o.augment.cutPasteMaxSize || o.augment.perlinMinExp >= o.augment.perlinMaxExp) {
    throw new MmaerecError('E_CONFIG', `${source}: augment ranges are empty (min ≥ max): make each min smaller than its max`);
  }
  const levels = (o.model.memory as { levels?: unknown } | undefined)?.levels;
  if (!o.backbone && o.pretrained === 'none' && o.noPretrained === 'skip-memory' && Array.isArray(levels) && levels.length > 0) {
    throw new MmaerecError(
      'E_CONFIG',
      `${source}: model.memory.levels is [${levels.join(', ')}] but with a random backbone the strategy skip-memory leaves the memory modules out: pass --random-backbone bn-reestimate to keep them with a random backbone, or drop model.memory.levels`,
    );
  }
  // The scoring is first used at the end, for the thresholds: check it now, not after hours of training.
  try {
    resolveScoringOptions(bundleScoring(o));
  } catch (err) {
    throw new MmaerecError('E_CONFIG', `${source}: scoring: ${(err as Error).message} (see docs/configuration.md)`);
  }
  return o;
}

/** The scoring the bundle gets: `scoring` with the `aggregation` shorthand over it, the paper's for the rest. */
export function bundleScoring(o: Pick<TrainOptions, 'scoring' | 'aggregation'>): ScoringOptions {
  return scoringSchema.parse({ ...o.scoring, ...(o.aggregation ? { aggregation: o.aggregation } : {}) });
}
