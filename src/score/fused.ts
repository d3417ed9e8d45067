import { nativeAddon, scoringEngine, type NativeFusedParams, type ScoringEngine } from '../native.js';
import { firstNonFinite } from '../preprocess/tensors.js';
import { scoringSchema, type ScoringOptions } from '../model/manifest.js';
import { assertFloat32Length, assertPositiveInt, invalidParameterError } from '../util/is.js';
import { aggregateRef, fusedScoreRef } from './reference/fused.js';

/**
 * Completes partial scoring options with the defaults of the manifest schema (method.md §6) and checks
 * them with that same schema (odd windows of at most MAX_SCORING_WINDOW, …): a bundle the loader accepts is
 * one this accepts. Throws RangeError naming the option, e.g. "Invalid scoring option structureWindow: 2 is even;
 * box windows must be odd (e.g. 3)".
 */
export function resolveScoringOptions(options: Partial<ScoringOptions> = {}): ScoringOptions {
  if (options === null || typeof options !== 'object') throw invalidParameterError('options', 'an object', options);
  const parsed = scoringSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RangeError(`Invalid scoring option ${issue.path.join('.') || '(options)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Smallest image side that supports `scales` MSGMS scales (each halves the image). */
export function minSideForScales(scales: number): number {
  return 2 ** (scales - 1);
}

/** What a fused score returns: the height×width map, the image score and the engine that computed them. */
export interface FusedScoreResult {
  map: Float32Array;
  score: number;
  engine: ScoringEngine;
}

/**
 * The fused anomaly map and image score of method.md §6 with options validated once: the constructor checks them
 * with the manifest schema (zod) and prepares the native parameters; `score()` checks only the frame (sizes, finite
 * values), so a pipeline pays the validation once, not per frame. The addon checks nothing the schema checked.
 *
 * `A = (1 − box_structureWindow(MSGMS(input, recon))) + μ·box_colorWindow(ΔL² + Δa² + Δb²)`, score = max(A)
 * (or the mean of the top fraction with `aggregation: { kind: 'topk', fraction }`; `margin` leaves a border
 * out of the image score). With `shadingWindow` w > 0 the reconstruction first takes the input's low band:
 * `recon + lowpass_w(input − recon)` (see the manifest schema).
 */
export class FusedScorer {
  /** The options in force: the given ones over the schema's defaults. */
  readonly options: ScoringOptions;
  private readonly params: NativeFusedParams;

  /** @throws RangeError naming the first invalid option (resolveScoringOptions). */
  constructor(options: Partial<ScoringOptions> = {}) {
    this.options = resolveScoringOptions(options);
    const o = this.options;
    this.params = {
      scales: o.scales,
      c: o.c,
      mu: o.mu,
      structureWindow: o.structureWindow,
      colorWindow: o.colorWindow,
      border: o.border,
      shadingWindow: o.shadingWindow,
      topkFraction: o.aggregation.kind === 'topk' ? o.aggregation.fraction : 0,
    };
  }

  /** The options in the addon's form (fusedScore, the TensorRT engine's inferScore). */
  get nativeParams(): NativeFusedParams {
    return this.params;
  }

  /**
   * The image score from a map the addon computed over the whole image with its own score: the aggregation's
   * margin (a border left out) is applied here, on the map (one pass, or a sort of the kept pixels for top-k).
   */
  finishScore(map: Float32Array, score: number, width: number, height: number): number {
    const { aggregation } = this.options;
    return aggregation.margin ? aggregateRef(map, aggregation, width, height) : score;
  }

  /**
   * The checks score() makes on a pair before scoring, with the same errors (RangeError naming the problem): sizes,
   * the smallest side for the scales, finite values. For callers that skip the image-space map (α = 1) but must
   * refuse what score() refuses.
   */
  checkPair(input: Float32Array, recon: Float32Array, width: number, height: number): void {
    this.checkSizes(input, recon, width, height);
    for (const [name, data] of [['input', input], ['recon', recon]] as const) {
      const bad = firstNonFinite(data);
      if (bad >= 0) {
        throw new RangeError(
          `${name} has a non-finite value at element ${bad} (pixel ${Math.floor(bad / 3)}): pass finite RGB values (a NaN reconstruction means the inference back end failed)`,
        );
      }
    }
  }

  /** The engine score() uses now (native.ts scoringEngine). */
  get engine(): ScoringEngine {
    return scoringEngine();
  }

  /**
   * @param input interleaved RGB in [0, 1], height×width×3
   * @param recon the reconstruction, same layout (values outside [0, 1] are clamped for the colour term only)
   * @returns the map, the score, and the engine: the native addon off the JS thread (`native-cpu`, or `cuda` when
   *   available), or the TypeScript reference (`typescript`, ≈ 5–50× slower) when the addon is missing.
   */
  async score(input: Float32Array, recon: Float32Array, width: number, height: number): Promise<FusedScoreResult> {
    const addon = nativeAddon();
    if (addon) {
      this.checkSizes(input, recon, width, height); // the addon checks the values itself, with the same message
      const { map, score, device } = await addon.fusedScore(input, recon, width, height, this.params);
      const engine: ScoringEngine = device === 'cuda' ? 'cuda' : 'native-cpu';
      return { map, score: this.finishScore(map, score, width, height), engine };
    }
    this.checkPair(input, recon, width, height);
    return { ...fusedScoreRef(input, recon, width, height, this.options), engine: 'typescript' };
  }

  private checkSizes(input: Float32Array, recon: Float32Array, width: number, height: number): void {
    assertPositiveInt('width', width);
    assertPositiveInt('height', height);
    assertFloat32Length('input', input, width * height * 3);
    assertFloat32Length('recon', recon, width * height * 3);
    const side = minSideForScales(this.options.scales);
    if (Math.min(width, height) < side) {
      throw new RangeError(
        `Image ${width}×${height} is too small for ${this.options.scales} MSGMS scales: each side needs at least ${side} pixels; lower scales or enlarge the image`,
      );
    }
  }
}

/**
 * One fused score (see FusedScorer): with options, they are validated on this call; with a FusedScorer, not again.
 * Callers that score frame after frame with the same options keep one FusedScorer.
 */
export async function fusedScore(
  input: Float32Array,
  recon: Float32Array,
  width: number,
  height: number,
  options?: Partial<ScoringOptions> | FusedScorer,
): Promise<FusedScoreResult> {
  const scorer = options instanceof FusedScorer ? options : new FusedScorer(options);
  return scorer.score(input, recon, width, height);
}
