import type { EvalAnalysis } from './analyzer.js';
import { maskDataUri, overlayDataUri, rgbDataUri } from './images.js';
import type { GalleryItem } from './report.js';
import type { ScoredImage } from './score-dataset.js';

/**
 * Keeps, while images stream by, the k lowest-scoring defective images (worst misses) and the k highest-scoring
 * good images (worst false alarms) with what the gallery shows — rankings that do not depend on the threshold,
 * so nothing needs a second pass. Also tracks the range of all map values, so that every heatmap in the report
 * shares one colour scale.
 */
interface Candidate {
  scored: ScoredImage;
  analysis: EvalAnalysis;
}

export class GalleryKeeper {
  readonly misses: Candidate[] = [];
  readonly falseAlarms: Candidate[] = [];
  mapMin = Infinity;
  mapMax = -Infinity;

  constructor(private readonly size: number) {}

  offer(scored: ScoredImage, analysis: EvalAnalysis): void {
    for (const v of scored.map) {
      if (v < this.mapMin) this.mapMin = v;
      if (v > this.mapMax) this.mapMax = v;
    }
    if (this.size === 0) return;
    const isGood = scored.image.label === 0;
    const list = isGood ? this.falseAlarms : this.misses;
    // misses: ascending score; false alarms: descending score
    const worse = (a: number, b: number) => (isGood ? a > b : a < b);
    if (list.length === this.size && !worse(scored.score, list[list.length - 1]!.scored.score)) return;
    list.push({ scored, analysis });
    list.sort((a, b) => (isGood ? b.scored.score - a.scored.score : a.scored.score - b.scored.score));
    if (list.length > this.size) list.pop();
  }

  /** The range of every map value seen ([0, 1] before any). */
  mapRange(): [number, number] {
    return [Number.isFinite(this.mapMin) ? this.mapMin : 0, Number.isFinite(this.mapMax) ? this.mapMax : 1];
  }

  /**
   * The gallery at `threshold`: only real misses (defective, below it) and real false alarms (good, at or above
   * it) — the k lowest-scoring defective images are all misses up to the first detected one. Heatmaps coloured
   * on `range` (the report's colour bar).
   */
  async render(threshold: number | undefined, range: [number, number] = this.mapRange()): Promise<{ misses: GalleryItem[]; falseAlarms: GalleryItem[] }> {
    const [lo, hi] = range;
    const item = async ({ scored, analysis }: Candidate): Promise<GalleryItem> => {
      const { mapWidth: w, mapHeight: h } = scored;
      const above = threshold !== undefined && scored.score >= threshold;
      const verdict = threshold === undefined ? 'no threshold' : scored.image.label === 1 ? (above ? 'detected' : 'miss') : above ? 'false alarm' : 'passed';
      const outcome = scored.image.label === 1 && !scored.mask ? `${verdict} (no mask: ground truth not shown)` : verdict;
      // the gallery shows the model's input; at a different size than the map, only the map is drawn
      const sameSize = analysis.input.length === w * h * 3;
      const base = sameSize ? analysis.input : new Float32Array(w * h * 3);
      const recon = analysis.recon.length === w * h * 3 ? analysis.recon : base;
      return {
        key: scored.image.key,
        score: scored.score,
        label: scored.image.label,
        outcome,
        input: await rgbDataUri(base, w, h),
        recon: await rgbDataUri(recon, w, h),
        overlay: await overlayDataUri(base, scored.map, w, h, lo, hi),
        truth: await maskDataUri(scored.mask ?? new Uint8Array(w * h), w, h),
      };
    };
    if (threshold === undefined) return { misses: [], falseAlarms: [] };
    const misses = this.misses.filter((c) => c.scored.score < threshold);
    const falseAlarms = this.falseAlarms.filter((c) => c.scored.score >= threshold);
    return { misses: await Promise.all(misses.map(item)), falseAlarms: await Promise.all(falseAlarms.map(item)) };
  }
}
