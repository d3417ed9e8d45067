import type { Frame } from '../capture/frame.js';
import { scoringSchema, type ScoringOptions } from '../model/manifest.js';
import { decodeFrame } from '../preprocess/decode.js';
import { rgbToTensors } from '../preprocess/tensors.js';
import { FusedScorer } from '../score/fused.js';
import type { EvalAnalyzer } from './analyzer.js';
import { gaussianBlur } from './blur.js';

/**
 * The non-learned reference scorer (issue 4's baseline): "reconstruction" = the input blurred with a Gaussian
 * of σ = 2. Everything else is the inspection path: the inspector's decode + resize (sharp, Lanczos-3 'fill' to
 * size × size, grayscale promoted to RGB) and the native fused score with the given scoring constants. Any
 * model worth shipping must beat it.
 */
export interface ReferenceOptions {
  /** Square working size (a bundle's input size). Default 256 (the paper's). */
  size?: number;
  /** Blur σ in pixels at that size. Default 2. */
  sigma?: number;
  /** Scoring constants (defaults: the manifest schema's, i.e. the paper's). */
  scoring?: Partial<ScoringOptions>;
}

export function blurReference(options: ReferenceOptions = {}): EvalAnalyzer {
  const size = options.size ?? 256;
  const sigma = options.sigma ?? 2;
  const scoring = scoringSchema.parse(options.scoring ?? {});
  const scorer = new FusedScorer(scoring);
  return {
    description: `reference: Gaussian blur σ=${sigma} as the reconstruction, ${size}×${size}, fused score (no model)`,
    provenance: { reference: 'blur', sigma, size, scoring },
    async analyze(frame: Frame) {
      const decoded = await decodeFrame(frame, size, size);
      const { hwc } = rgbToTensors(decoded.rgb, size, size);
      const recon = gaussianBlur(hwc, size, size, 3, sigma);
      const { map, score } = await scorer.score(hwc, recon, size, size);
      return { score, map, mapWidth: size, mapHeight: size, input: hwc, recon };
    },
    async close() {},
  };
}
