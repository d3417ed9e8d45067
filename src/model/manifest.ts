import { z } from 'zod';

/**
 * The bundle manifest: the contract between training and deployment. Everything a runtime needs to
 * reproduce training-time preprocessing and scoring travels here. `config` is the network config
 * (validated by `model/config.ts`); it stays opaque to the runtime, which only needs `input` and `scoring`.
 */
export const BUNDLE_FORMAT = 'mmaerec-bundle/1';

export const fileEntrySchema = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256'),
  bytes: z.number().int().nonnegative(),
});

/**
 * How the map becomes the image score: the paper's max, or the mean of the top fraction of the map; `margin`
 * (default 0) leaves that fraction of the width and of the height out at each side, for products whose
 * outline always reconstructs worse than their surface (magnetic tiles: BENCHMARKS.md, "Training"). The map,
 * the regions and the heatmaps keep every pixel.
 */
const marginSchema = z.number().min(0).lt(0.5).optional()
  .describe('fraction of the width and of the height left out of the image score at each side (below 0.5; default 0, the paper)');
export const aggregationSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('max').describe('image score = the largest map value (paper)'), margin: marginSchema }),
  z.object({
    kind: z.literal('topk').describe('image score = the mean of the top fraction of map values'),
    fraction: z.number().gt(0).lte(1).describe('the fraction of map pixels averaged, e.g. 0.01'),
    margin: marginSchema,
  }),
]);

/**
 * The largest box window any scoring option may take (structure, colour, shading). Far above any useful window at
 * model input sizes (the paper: 21 and 11 at 256²), and small enough that a window is never a typo such as 1e9.
 */
export const MAX_SCORING_WINDOW = 1023;

const show = (v: unknown): string => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v === undefined ? 'missing' : typeof v === 'string' ? JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v) : typeof v);

/** An odd box window in 1..MAX_SCORING_WINDOW (`allowZero`: 0 also, meaning off); every message names the fix. */
function windowSchema(example: number, allowZero = false) {
  const range = `${allowZero ? '0 = off, or ' : ''}an odd window from 1 to ${MAX_SCORING_WINDOW}, e.g. ${example}`;
  return z
    .number({ error: (i) => `${show(i.input)} is not a number (${range})` })
    .int({ error: (i) => `${show(i.input)} is not whole (${range})` })
    .min(allowZero ? 0 : 1, { error: (i) => `${show(i.input)} is below ${allowZero ? 0 : 1} (${range})` })
    .max(MAX_SCORING_WINDOW, { error: (i) => `${show(i.input)} is above ${MAX_SCORING_WINDOW} (${range})` })
    .refine((v) => v % 2 === 1 || (allowZero && v === 0), {
      error: (i) => allowZero
        ? `${show(i.input)} is even; use 0 (off) or an odd window (e.g. ${(i.input as number) + 1})`
        : `${show(i.input)} is even; box windows must be odd (e.g. ${(i.input as number) + 1})`,
    });
}

/**
 * The scoring constants: ONE schema for the manifest's `scoring` (checked when a bundle is loaded, so that a
 * bundle the scorer would refuse is refused by `info`, `run --check` and the bundle loader with E_BUNDLE) and for
 * the scorer's options (score/fused.ts resolveScoringOptions, RangeError at the call site). Messages are
 * "<value> <problem>: <fix>".
 */
export const scoringSchema = z.object({
  /** MSGMS scales (2×2 average pooling between scales). Paper/RIAD: 4; EdgRec code: 2. */
  scales: z.number({ error: (i) => `${show(i.input)} is not a number (an integer from 1 to 8, e.g. 4)` })
    .int({ error: (i) => `${show(i.input)} is not whole (an integer from 1 to 8, e.g. 4)` })
    .min(1, { error: (i) => `${show(i.input)} is below 1 (an integer from 1 to 8, e.g. 4)` })
    .max(8, { error: (i) => `${show(i.input)} is above 8 (an integer from 1 to 8, e.g. 4)` })
    .default(4)
    .describe('MSGMS scales, with 2×2 average pooling between them (paper: 4)'),
  /** GMS stability constant c (method.md §6). */
  c: z.number({ error: (i) => `${show(i.input)} is not a finite number (a small positive constant, e.g. 0.0026)` })
    .positive({ error: (i) => `${show(i.input)} is not positive (a small positive constant, e.g. 0.0026)` })
    .default(0.0026)
    .describe('stability constant c of the gradient-magnitude similarity'),
  /** Weight of the colour term G_c in A = G_MSGM + μ·G_c. */
  mu: z.number({ error: (i) => `${show(i.input)} is not a finite number (a weight ≥ 0, e.g. 0.001)` })
    .nonnegative({ error: (i) => `${show(i.input)} is negative (a weight ≥ 0, e.g. 0.001)` })
    .default(1e-3)
    .describe('weight μ of the colour term: A = (1 − box(MSGMS)) + μ·box(ΔLab²)'),
  /** Mean-filter window over the MSGMS map (odd, at most 1023). */
  structureWindow: windowSchema(21).default(21).describe('odd mean-filter window over the MSGMS map, in pixels'),
  /** Mean-filter window over the squared Lab difference (odd, at most 1023). */
  colorWindow: windowSchema(11).default(11).describe('odd mean-filter window over the squared Lab difference, in pixels'),
  /** Box-filter border rule: 'valid' averages the in-image pixels; 'zero' is the reference code's zero padding. */
  border: z.enum(['valid', 'zero'], { error: (i) => `${show(i.input)} is not a border rule ("valid", the default, or "zero")` }).default('valid')
    .describe("box-filter borders: `valid` averages the in-image pixels; `zero` is the reference code's zero padding"),
  /**
   * 0 (default, the paper) or an odd box window w: before scoring, the reconstruction's low-frequency band is
   * replaced by the input's — `recon + lowpass(input − recon)`, lowpass = three box means of w×w ('valid'
   * borders, ≈ a Gaussian of σ ≈ w/2). The decoder's main input, the edge map, carries no absolute
   * brightness, so broad lighting and shading are what the network reconstructs worst; this leaves them out of
   * the score (magnetic tiles: BENCHMARKS.md, "Training"; docs/architecture.md, "Shading transfer").
   */
  shadingWindow: windowSchema(17, true).default(0)
    .describe('0 = off (paper); odd w: differences broader than ≈ w/2 px (σ) — lighting, shading — are not scored'),
  /** Image score from the map: the paper's max, or the mean of the top fraction of pixels. */
  aggregation: aggregationSchema.default({ kind: 'max' }).describe('how the map becomes the image score'),
});

/**
 * A threshold set for a false-alarm budget on good images (eval/false-alarm.ts): the rate asked for, how it was
 * estimated, and the uncertainty the images leave.
 */
export const operatingPointSchema = z.object({
  rule: z.literal('false-alarm').describe('the image threshold was set for a false-alarm rate on good images'),
  falseAlarmRate: z.number().gt(0).lt(0.5).describe('the false-alarm rate the image threshold targets (fraction of good frames flagged)'),
  method: z.enum(['gumbel', 'order-statistic', 'data-bound'])
    .describe('how the threshold was estimated from the good scores: a Gumbel tail fit, an order statistic, or the data bound (too few images for the rate)'),
  images: z.number().int().positive().describe('good images the estimate rests on'),
  exceedances: z.number().int().nonnegative().describe('of those, how many score at or above the threshold'),
  rateInterval95: z.tuple([z.number(), z.number()]).describe('exact 95 % interval of the false-alarm rate those images support'),
  thresholdRange90: z.tuple([z.number(), z.number()]).describe('5th–95th percentile of the threshold over bootstrap resamples of the good scores'),
});

export const tilingSchema = z.strictObject({
  shortEdge: z.number().int().positive().max(16384)
    .describe("tiled inspection: the ROI is resized, aspect kept, to this short edge in pixels (at least the model input) and covered by model-size tiles"),
  overlap: z.number().min(0).max(0.9).describe('fraction of a tile shared with its neighbour; the tiles\' maps are stitched'),
});

export const thresholdsSchema = z.object({
  image: z.number().describe('image score at or above which a frame is a defect'),
  pixel: z.number().describe('map value at or above which a pixel belongs to a defect region'),
  source: z.string().describe('how they were set, e.g. "calibrate --rule f1 on <dir>" or "train validation …"'),
  /** The operating point the image threshold was set for, when a rule on good images set it (absent in old bundles). */
  operatingPoint: operatingPointSchema.optional(),
});

/**
 * How a bundle with a feature bank mixes its feature-level map into the image-space map (score/feature-fusion.ts):
 * A' = (1 − α)·A/s_A + α·up(D)/s_D. Chosen at export on held-out good images and synthetic anomalies.
 */
export const featureFusionSchema = z.strictObject({
  alpha: z.number().min(0).max(1).describe('share of the feature-level map in the fused map (0 = image-space map only)'),
  mapScale: z.number().positive().describe("the image-space map's scale on held-out good images (mean image maximum)"),
  featureScale: z.number().positive().describe("the feature distance's scale on held-out good images (mean image maximum)"),
  grid: z.strictObject({
    width: z.number().int().positive().describe("width of the feature distance map (the model input / 8)"),
    height: z.number().int().positive().describe("height of the feature distance map (the model input / 8)"),
  }),
});

export type FeatureFusion = z.infer<typeof featureFusionSchema>;

/**
 * Whether a fusion makes the map from the feature distance alone (α = 1): the image-space map, and so the
 * reconstruction, then has no weight. Scoring skips the one, inference the other (the bank's graph alone).
 */
export function featureDistanceAlone(fusion: FeatureFusion | undefined): boolean {
  return fusion?.alpha === 1;
}

/**
 * Per-position statistics of good images' maps (score/position-norm.ts): the map is scored as
 * (A − μ) / σ, the grid resized to the map. Chosen at export on held-out good images and synthetic anomalies.
 */
export const positionNormSchema = z.strictObject({
  grid: z.strictObject({
    width: z.number().int().positive().describe('columns of the statistics grid (coarse, resized bilinearly to the map)'),
    height: z.number().int().positive().describe('rows of the statistics grid'),
  }),
  mean: z.array(z.number()).describe('μ per grid cell, row-major: the map\'s mean on good training images'),
  std: z.array(z.number().positive()).describe('σ per grid cell (floored at a quarter of the mean σ)'),
  images: z.number().int().positive().describe('good training images the statistics come from'),
}).superRefine((n, ctx) => {
  const cells = n.grid.width * n.grid.height;
  if (n.mean.length !== cells || n.std.length !== cells) {
    ctx.addIssue({ code: 'custom', path: ['mean'], message: `mean and std must hold ${cells} values (grid ${n.grid.width}×${n.grid.height}), not ${n.mean.length} and ${n.std.length}` });
  }
});

export type PositionNorm = z.infer<typeof positionNormSchema>;

/**
 * The INT8 variant of the ONNX model (`mmaerec-edge quantize`, model/quantize/): static QDQ, calibrated on good
 * images through the inspection preprocessing. ONNX Runtime runs it when `backend.precision` is int8.
 */
export const int8VariantSchema = z.object({
  /** The ONNX file in the bundle (listed in `files`, so its sha256 is checked on load). */
  file: z.string().min(1).describe('the INT8 ONNX file in the bundle (model.int8.onnx), listed in files'),
  method: z.literal('static-qdq').describe('quantisation method: static QDQ (QuantizeLinear/DequantizeLinear pairs, calibrated ranges)'),
  weights: z.literal('int8 symmetric, per output channel').describe('how conv weights are quantised'),
  activations: z.literal('uint8 asymmetric, per tensor').describe('how activations are quantised'),
  calibration: z.object({
    rule: z.enum(['percentile', 'mse']).describe('how each activation range was chosen from the calibration values'),
    /** The percentile of each activation's values kept inside the range (rule percentile). */
    percentile: z.number().gt(50).lte(100).optional().describe('rule percentile: the percentile of each activation kept inside its range'),
    /** The folder as given to `quantize --calib`. */
    folder: z.string().describe('the folder of good images, as given to quantize --calib'),
    images: z.number().int().positive().describe('calibration images read'),
    samples: z.number().int().positive().describe('network inputs calibrated on: one per image, or tiles of them for a tiled bundle'),
    /** sha256 over each image's file name and bytes, in sorted order. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/).describe("over each calibration image's file name and bytes, in sorted order"),
  }),
  /** Convs that run in int8, and those kept float with the reason. */
  int8Convs: z.number().int().nonnegative().describe('convolutions that run in int8'),
  floatConvs: z.array(z.object({ name: z.string(), reason: z.string() })).describe('convs kept float, each with the reason'),
  /** Reconstruction difference from the float model on calibration samples, at quantisation time. */
  check: z.object({
    samples: z.number().int().positive().describe('calibration samples compared'),
    meanAbsDiff: z.number().describe('mean |recon int8 − fp32|'),
    maxAbsDiff: z.number().describe('largest |recon int8 − fp32|'),
    /** meanAbsDiff ÷ the mean |recon − mean(recon)| of the FP32 reconstructions (absent in bundles quantised before it was recorded). */
    relative: z.number().optional().describe('mean |recon int8 − fp32| ÷ the FP32 reconstruction\'s mean deviation from its mean (the decoder goes float above 0.15)'),
    /** A feature-bank bundle: mean |featureDistance int8 − fp32| and the mean FP32 featureDistance it compares with. */
    featureDistance: z.object({
      meanAbsDiff: z.number().describe('mean |featureDistance int8 − fp32|'),
      mean: z.number().describe('mean featureDistance of the FP32 model on the same samples'),
    }).optional().describe('feature-bank bundles: the distance map compared like the reconstruction'),
  })
    .describe('|recon int8 − fp32| over the first calibration samples, measured when quantising'),
  createdAt: z.string().describe('ISO 8601 time the variant was written'),
  producer: z.string().describe('the SDK version that wrote it'),
});

export const manifestSchema = z.object({
  format: z.literal(BUNDLE_FORMAT).describe('bundle format version; a runtime refuses formats it does not know'),
  name: z.string().min(1).describe('bundle name (provenance of every result)'),
  createdAt: z.string().describe('ISO 8601 time the bundle was written'),
  config: z.record(z.string(), z.unknown()).describe('the network config (the Network table above), as trained'),
  input: z.object({
    width: z.number().int().positive().describe('model input width in pixels (the ROI is resized to it)'),
    height: z.number().int().positive().describe('model input height in pixels'),
    colorOrder: z.literal('rgb').describe('channel order the network expects in its `image` input'),
    mean: z.tuple([z.number(), z.number(), z.number()]).describe('per-channel mean subtracted inside the graph before the backbone (informative: feed RGB in [0, 1])'),
    std: z.tuple([z.number(), z.number(), z.number()]).describe('per-channel standard deviation divided by inside the graph (informative)'),
    /**
     * Tiled inspection (preprocess/tiles.ts): the ROI is resized keeping its aspect ratio to this short edge and
     * covered by overlapping model-size tiles whose maps are stitched. Absent: the ROI is stretched to the input.
     */
    tiling: tilingSchema.optional(),
  }),
  scoring: scoringSchema,
  /** Present when the network has a feature bank: how its distance map joins the scoring's map. */
  featureFusion: featureFusionSchema.optional(),
  /** Present when the map is normalised per position by good images' statistics. */
  positionNorm: positionNormSchema.optional(),
  thresholds: thresholdsSchema,
  files: z.record(z.string(), fileEntrySchema)
    .describe("the bundle's files (weights.safetensors, model.onnx), each with its sha256 and size, checked when the bundle is loaded"),
  provenance: z.record(z.string(), z.unknown()).describe('how the bundle was made: command, data, steps, backbone weights and their licence'),
  /** Model variants besides the float model.onnx (absent in bundles never quantised). */
  variants: z.object({ int8: int8VariantSchema.optional() }).optional().describe('model variants besides model.onnx (int8: written by quantize)'),
}).superRefine((m, ctx) => {
  const int8 = m.variants?.int8;
  if (int8 && !m.files[int8.file]) {
    ctx.addIssue({ code: 'custom', path: ['variants', 'int8', 'file'], message: `${int8.file} is not listed in files (run mmaerec-edge quantize again)` });
  }
  const tiling = m.input.tiling;
  if (tiling && (m.input.width !== m.input.height || tiling.shortEdge < m.input.width)) {
    ctx.addIssue({
      code: 'custom',
      path: ['input', 'tiling', 'shortEdge'],
      message: `${tiling.shortEdge} must be at least the (square) model input ${m.input.width}×${m.input.height}: tiles are model-size squares inside the working image`,
    });
  }
  // The scorer refuses an input whose sides are too small for the MSGMS scales (each scale halves the image).
  const side = 2 ** (m.scoring.scales - 1);
  if (Math.min(m.input.width, m.input.height) < side) {
    ctx.addIssue({
      code: 'custom',
      path: ['scoring', 'scales'],
      message: `${m.scoring.scales} needs an input of at least ${side}×${side} but the input is ${m.input.width}×${m.input.height} (at most ${Math.floor(Math.log2(Math.min(m.input.width, m.input.height))) + 1} scales here)`,
    });
  }
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ScoringOptions = z.infer<typeof scoringSchema>;
export type Thresholds = z.infer<typeof thresholdsSchema>;
export type Int8Variant = z.infer<typeof int8VariantSchema>;
