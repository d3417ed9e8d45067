import { heatmapPanel, maskContour, type ImagePanels } from './panels.js';
import type { ReportImage } from './report.js';
import type { ScoredImage } from './score-dataset.js';

/** Bytes of image panels report.html embeds by default: every image of a set of about 1,900 (BENCHMARKS.md). */
export const DEFAULT_REPORT_PANEL_BYTES = 16 * 2 ** 20;

export interface PanelBudget {
  /** The report's threshold (misses and false alarms are judged at it); none: dataset order. */
  threshold?: number;
  /** The heatmaps' colour range. */
  range: [number, number];
  /** Bytes of data: URIs (input, reconstruction, heatmap) embedded at most. */
  bytes: number;
}

export type KeptPanels = ImagePanels & { regions: ReportImage['regions'] };

/**
 * The report's per-image table: every image with its scores, and the panels of as many as fit the budget, so
 * that report.html stays a file a browser opens quickly however large the test set (a panel set of a 128² map is
 * ≈ 9 KB in base64; at the default budget, panels are left out beyond ≈ 1,900 such images). Those that get panels first: the misses and
 * false alarms at the threshold, worst first (what the gallery lists), then the others nearest the threshold
 * (those whose verdict the slider changes first). Returns the images in dataset order and a note for the
 * report when panels were left out.
 */
export async function reportImages(scored: readonly ScoredImage[], panels: ReadonlyMap<string, KeptPanels>, budget: PanelBudget): Promise<{ images: ReportImage[]; note?: string }> {
  const embedded = new Map<string, { input: string; recon: string; heatmap: string }>();
  let used = 0;
  for (const s of panelOrder(scored, budget.threshold)) {
    const p = panels.get(s.image.key)!;
    const heatmap = await heatmapPanel(s.map, s.mapWidth, s.mapHeight, budget.range);
    const size = p.input.length + p.recon.length + heatmap.length;
    // the first image that does not fit ends it: the images with panels are exactly the first ones in that order
    if (used + size > budget.bytes) break;
    used += size;
    embedded.set(s.image.key, { input: p.input, recon: p.recon, heatmap });
  }
  const images = scored.map((s): ReportImage => {
    const p = panels.get(s.image.key)!;
    const e = embedded.get(s.image.key);
    return {
      key: s.image.key, defect: s.image.defect, label: s.image.label, score: s.score, mapWidth: s.mapWidth, mapHeight: s.mapHeight,
      regions: p.regions, input: e?.input ?? null, recon: e?.recon ?? null, heatmap: e?.heatmap ?? null,
      contour: s.mask ? maskContour(s.mask, s.mapWidth, s.mapHeight) : null,
    };
  });
  if (embedded.size === scored.length) return { images };
  const order = budget.threshold === undefined ? 'in dataset order' : 'misses and false alarms first, then the images nearest the threshold';
  return { images, note: `report.html shows the panels of ${embedded.size} of ${scored.length} images (its ${size(budget.bytes)} budget for images, ${order}); raise it with eval --report-mib` };
}

const size = (bytes: number) => (bytes >= 2 ** 20 ? `${Number((bytes / 2 ** 20).toFixed(1))} MiB` : `${Math.ceil(bytes / 1024)} KiB`);

/** The images in the order they get panels (see reportImages). */
export function panelOrder(scored: readonly ScoredImage[], threshold: number | undefined): ScoredImage[] {
  if (threshold === undefined) return [...scored];
  const wrong = (s: ScoredImage) => (s.image.label === 1) !== (s.score >= threshold);
  const distance = (s: ScoredImage) => Math.abs(s.score - threshold);
  return [...scored].sort((a, b) => {
    const wa = wrong(a);
    if (wa !== wrong(b)) return wa ? -1 : 1;
    // wrong ones: the worst first; right ones: the nearest first
    return wa ? distance(b) - distance(a) : distance(a) - distance(b);
  });
}
