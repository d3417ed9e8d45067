import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MmaerecError } from '../errors.js';
import { encodeNpyFloat32 } from '../score/npy.js';
import type { EvalAnalyzer } from './analyzer.js';
import { readDataset } from './dataset.js';
import { GalleryKeeper } from './gallery.js';
import type { MaskResize } from './mask.js';
import { defaultHeatmapRange } from '../decide/heatmap.js';
import { CALIBRATE_DEFAULTS, imageThresholdFor, type CalibrationRule } from './calibrate.js';
import { curveCharts } from './charts.js';
import { formatRate } from './false-alarm.js';
import { imagePanels } from './panels.js';
import { renderReport, type MetricsRow, type ThresholdMark } from './report.js';
import { DEFAULT_REPORT_PANEL_BYTES, reportImages, type KeptPanels } from './report-panels.js';
import { scoreImages } from './score-dataset.js';
import { summarizeOffThread } from './offthread.js';
import { thresholdRates, type SubsetMetrics } from './summarize.js';

export interface EvaluateOptions {
  /** How frames are analysed: the inspector over a bundle (`openBundleAnalyzer`) or the blur reference. */
  analyzer: EvalAnalyzer;
  /** Dataset root in MVTec AD layout. */
  data: string;
  /** Output folder (created). */
  out: string;
  /** Also write maps/<defect>/<stem>.npy (float32, model resolution). */
  saveMaps?: boolean;
  /** At most N images per test folder, evenly spaced over the sorted names. */
  limit?: number;
  maskResize?: MaskResize;
  /** Images per gallery section (worst misses, worst false alarms). Default 4. */
  gallery?: number;
  /** AUPRO integration limit. Default 0.3. */
  fprLimit?: number;
  /** Progress bar on stderr. Default true. */
  progress?: boolean;
  /** Frames in flight. Default 2. */
  concurrency?: number;
  /** Bytes of image panels report.html embeds at most (default DEFAULT_REPORT_PANEL_BYTES; see report-panels.ts). */
  reportPanelBytes?: number;
}

export interface EvaluationResult {
  metrics: Record<string, unknown>;
  /** Paths written. */
  files: string[];
}

async function write(path: string, data: string | Uint8Array): Promise<void> {
  try {
    await writeFile(path, data);
  } catch (err) {
    throw new MmaerecError('E_IO', `cannot write ${path} (${(err as Error).message}): check the --out folder's permissions and free space`, { cause: err });
  }
}

const row = (name: string, m: SubsetMetrics): MetricsRow => ({
  name, good: m.good, defective: m.defective, imageAuroc: m.imageAuroc, pixelAuroc: m.pixelAuroc, pixelAp: m.pixelAp, aupro: m.aupro,
  missAt1PctFalseAlarms: m.missAt1PctFalseAlarms, missAt5PctFalseAlarms: m.missAt5PctFalseAlarms,
});

/**
 * Evaluates a model (or the reference) on a dataset in MVTec AD layout and writes metrics.json, scores.json,
 * labels.json, report.html and, with saveMaps, maps/<defect>/<stem>.npy into `out`.
 */
export async function evaluate(options: EvaluateOptions): Promise<EvaluationResult> {
  const started = performance.now();
  const out = resolve(options.out);
  const dataset = await readDataset(options.data, { ...(options.limit !== undefined ? { limit: options.limit } : {}) });
  try {
    await mkdir(out, { recursive: true });
  } catch (err) {
    throw new MmaerecError('E_IO', `cannot create the output folder ${out} (${(err as Error).message}): pass a writable --out`, { cause: err });
  }
  const files: string[] = [];
  const keeper = new GalleryKeeper(options.gallery ?? 4);
  const analyzer = options.analyzer;
  // the report's table: small panels of every image, made while the analyses stream by (they are not kept)
  const panels = new Map<string, KeptPanels>();
  const scored = await scoreImages(analyzer, dataset.test, {
    maskResize: options.maskResize ?? 'nearest',
    concurrency: options.concurrency ?? 2,
    ...(options.progress !== false ? { progress: 'eval' } : {}),
    onImage: async (s, analysis) => {
      keeper.offer(s, analysis);
      const regions = analysis.regions ? analysis.regions.map(({ x, y, width, height }) => ({ x, y, width, height })) : null;
      panels.set(s.image.key, { ...(await imagePanels(analysis)), regions });
      if (options.saveMaps) {
        const dir = join(out, 'maps', s.image.defect);
        await mkdir(dir, { recursive: true });
        const path = join(dir, `${s.image.stem}.npy`);
        await write(path, encodeNpyFloat32(s.map, [s.mapHeight, s.mapWidth]));
        files.push(path);
      }
    },
  });

  const fprLimit = options.fprLimit ?? 0.3;
  const summary = await summarizeOffThread(scored, dataset.defects, fprLimit);
  const threshold = analyzer.thresholds
    ? { value: analyzer.thresholds.image, label: `threshold ${analyzer.thresholds.image.toPrecision(4)} (${analyzer.thresholds.source})` }
    : summary.bestF1
      ? { value: summary.bestF1.threshold, label: `best-F1 threshold ${summary.bestF1.threshold.toPrecision(4)} (on this data)` }
      : undefined;
  const notes = [...summary.notes];
  if (dataset.unmasked.length) notes.push(`${dataset.unmasked.length} defective image(s) have no mask: scored at image level only (${dataset.unmasked.slice(0, 5).join(', ')}${dataset.unmasked.length > 5 ? ', …' : ''})`);
  if (dataset.orphanMasks.length) notes.push(`${dataset.orphanMasks.length} mask(s) without an image were ignored (${dataset.orphanMasks.slice(0, 3).join(', ')})`);
  // eval scores test/ only: a sampled train/good is irrelevant here
  for (const l of dataset.limited.filter((f) => f.startsWith('test/'))) notes.push(`--limit sampled ${l}`);

  const scores: Record<string, number> = {};
  const labels: Record<string, 0 | 1> = {};
  for (const s of scored) {
    scores[s.image.key] = s.score;
    labels[s.image.key] = s.image.label;
  }
  const first = scored[0];
  const metrics = {
    createdAt: new Date().toISOString(),
    model: { description: analyzer.description, ...analyzer.provenance },
    dataset: {
      root: dataset.root,
      good: summary.overall.good,
      defective: summary.overall.defective,
      defects: dataset.defects,
      unmaskedDefective: dataset.unmasked.length,
      unmasked: dataset.unmasked,
      orphanMasks: dataset.orphanMasks,
      limited: dataset.limited.filter((f) => f.startsWith('test/')),
    },
    protocol: {
      imageScore: 'the analyzer\'s image score (a bundle: the inspector\'s, per its manifest scoring.aggregation; the reference: max of the map)',
      mapSize: first ? [first.mapWidth, first.mapHeight] : null,
      maskResize: options.maskResize ?? 'nearest',
      aupro: `per-region overlap (8-connected ground-truth regions), FPR over all normal pixels, trapezoid to FPR ${fprLimit} with interpolation at the cut, divided by ${fprLimit}`,
      ap: 'sklearn average_precision_score (step-wise, no interpolation)',
      perDefect: 'test/good plus the images of that defect type',
    },
    overall: summary.overall,
    perDefect: summary.perDefect,
    threshold: threshold
      ? { image: threshold.value, source: analyzer.thresholds?.source ?? 'best F1 on this data', ...thresholdRates(scored, threshold.value) }
      : null,
    bestF1: summary.bestF1 ?? null,
    notes,
    durationS: Math.round((performance.now() - started) / 100) / 10,
  };
  // the line's colour range when there is a pixel threshold (a colour then means what it means on the line)
  const range = analyzer.thresholds ? defaultHeatmapRange(analyzer.thresholds.pixel) : keeper.mapRange();
  const galleryItems = await keeper.render(threshold?.value, range);
  const { images, note: panelNote } = await reportImages(scored, panels, { ...(threshold ? { threshold: threshold.value } : {}), range, bytes: options.reportPanelBytes ?? DEFAULT_REPORT_PANEL_BYTES });
  const html = renderReport({
    title: `mmaerec-edge evaluation — ${dataset.root.split('/').pop()}`,
    createdAt: metrics.createdAt,
    model: analyzer.description,
    dataset: `${dataset.root} (${summary.overall.good} good, ${summary.overall.defective} defective test images)`,
    rows: [row('all', summary.overall), ...dataset.defects.map((d) => row(d, summary.perDefect[d]!))],
    // about the report, not the metrics: not in metrics.json
    notes: panelNote ? [...notes, panelNote] : notes,
    charts: curveCharts(summary.curves, summary.perDefectCurves, fprLimit),
    images,
    ...(threshold ? { threshold } : {}),
    marks: thresholdMarks(analyzer, scored),
    colourScale: { lo: range[0], hi: range[1], ...(analyzer.thresholds ? { pixelThreshold: analyzer.thresholds.pixel } : {}) },
    ...galleryItems,
  });
  const outputs: [string, string][] = [
    ['metrics.json', JSON.stringify(metrics, null, 2) + '\n'],
    ['scores.json', JSON.stringify(scores, null, 2) + '\n'],
    ['labels.json', JSON.stringify(labels, null, 2) + '\n'],
    ['report.html', html],
  ];
  for (const [name, text] of outputs) {
    await write(join(out, name), text);
    files.push(join(out, name));
  }
  return { metrics, files };
}

const RULE_LABELS: Record<CalibrationRule, [string, string]> = {
  'false-alarm': [`calibrate --rule false-alarm (${formatRate(CALIBRATE_DEFAULTS.rate)})`, `FA ${formatRate(CALIBRATE_DEFAULTS.rate)}`],
  f1: ['calibrate --rule f1', 'F1'],
  'good-percentile': [`calibrate --rule good-percentile (p${CALIBRATE_DEFAULTS.target})`, `p${CALIBRATE_DEFAULTS.target}`],
};

/** The bundle's threshold and what each calibration rule would set on these test images (calibrate's defaults). */
function thresholdMarks(analyzer: EvaluateOptions['analyzer'], scored: Parameters<typeof imageThresholdFor>[1]): ThresholdMark[] {
  const marks: ThresholdMark[] = analyzer.thresholds ? [{ value: analyzer.thresholds.image, label: `bundle (${analyzer.thresholds.source})`, short: 'bundle', kind: 'bundle' }] : [];
  for (const rule of Object.keys(RULE_LABELS) as CalibrationRule[]) {
    const chosen = imageThresholdFor(rule, scored);
    if (chosen) marks.push({ value: chosen.threshold, label: RULE_LABELS[rule][0], short: RULE_LABELS[rule][1], kind: 'rule' });
  }
  return marks;
}
