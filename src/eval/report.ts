import { readFileSync } from 'node:fs';
import { colourAt } from '../decide/colour-scale.js';
import { packageFile, uplotFile } from '../util/package-files.js';
import { escapeHtml, type CurveChart } from './charts.js';

/**
 * report.html: one self-contained page that opens from disk (uPlot, the page's script and styles and every
 * image inline; nothing fetched): the metrics table; a threshold slider that recomputes the confusion counts,
 * false-alarm and miss rates, precision and F1 in the page, with the bundle's and the calibration rules'
 * thresholds marked; the score histogram; ROC, precision–recall and PRO curves per defect type; a sortable
 * per-image table whose rows open input, reconstruction and heatmap with region boxes and the ground-truth
 * contour, with the colour bar; and the misses and false alarms at the report's threshold.
 */
export interface MetricsRow {
  name: string;
  good: number;
  defective: number;
  imageAuroc: number | null;
  pixelAuroc: number | null;
  pixelAp: number | null;
  aupro: number | null;
  missAt1PctFalseAlarms: number | null;
  missAt5PctFalseAlarms: number | null;
}

export interface GalleryItem {
  key: string;
  score: number;
  label: 0 | 1;
  /** e.g. "miss", "false alarm", "detected", "passed" at the report's threshold. */
  outcome: string;
  /** PNG data: URIs. */
  input: string;
  recon: string;
  overlay: string;
  truth: string;
}

/** One test image as the table and its detail view show it. */
export interface ReportImage {
  key: string;
  defect: string;
  label: 0 | 1;
  score: number;
  mapWidth: number;
  mapHeight: number;
  /** Regions at the pixel threshold, in map pixels; null without a pixel threshold. */
  regions: { x: number; y: number; width: number; height: number }[] | null;
  /** data: URIs (see panels.ts); null when the report's budget for images left them out (report-panels.ts). */
  input: string | null;
  recon: string | null;
  heatmap: string | null;
  /** The ground truth's outline as an SVG path in map pixels ('' for a good image); null without a mask. */
  contour: string | null;
}

/** A threshold the slider can jump to: the bundle's, or what a calibration rule would set on this data. */
export interface ThresholdMark {
  value: number;
  label: string;
  /** A few characters for the histogram's line (the buttons carry the full label). */
  short: string;
  kind: 'bundle' | 'rule';
}

export interface ReportData {
  title: string;
  createdAt: string;
  model: string;
  dataset: string;
  rows: MetricsRow[];
  notes: string[];
  charts: CurveChart[];
  images: ReportImage[];
  /** Where the slider starts (the bundle's threshold, else best F1 on this data). */
  threshold?: { value: number; label: string };
  marks: ThresholdMark[];
  /** Map values at the ends of the heatmaps' colour scale, and the pixel threshold when there is one. */
  colourScale: { lo: number; hi: number; pixelThreshold?: number };
  /** Defective images below the report's threshold, lowest first (at most the gallery size). */
  misses: GalleryItem[];
  /** Good images at or above it, highest first. */
  falseAlarms: GalleryItem[];
}

const cell = (v: number | null) => (v === null ? '<td class="na">n/a</td>' : `<td>${(v * 100).toFixed(1)}</td>`);

function table(rows: MetricsRow[]): string {
  const head = '<tr><th>subset</th><th>good</th><th>defective</th><th>image AUROC</th><th>pixel AUROC</th><th>pixel AP</th><th>AUPRO</th><th>miss at 1 % false alarms</th><th>miss at 5 % false alarms</th></tr>';
  const body = rows
    .map((r) => `<tr><th>${escapeHtml(r.name)}</th><td>${r.good}</td><td>${r.defective}</td>${cell(r.imageAuroc)}${cell(r.pixelAuroc)}${cell(r.pixelAp)}${cell(r.aupro)}${cell(r.missAt1PctFalseAlarms)}${cell(r.missAt5PctFalseAlarms)}</tr>`)
    .join('');
  return `<table class="metrics">${head}${body}</table>`;
}

function gallery(title: string, items: GalleryItem[], empty: string): string {
  if (items.length === 0) return `<h3>${escapeHtml(title)}</h3><p class="none">${escapeHtml(empty)}</p>`;
  const rows = items
    .map((it) => {
      const img = (src: string, alt: string) => `<figure><img src="${src}" alt="${escapeHtml(alt)}"><figcaption>${escapeHtml(alt)}</figcaption></figure>`;
      return `<div class="item"><div class="caption"><b>${escapeHtml(it.key)}</b> score ${it.score.toPrecision(4)} — ${escapeHtml(it.outcome)}</div>${img(it.input, 'input')}${img(it.recon, 'reconstruction')}${img(it.overlay, 'heatmap')}${img(it.truth, 'ground truth')}</div>`;
    })
    .join('');
  return `<h3>${escapeHtml(title)}</h3><div class="gallery">${rows}</div>`;
}

/** The colour scale as a CSS gradient (the SDK's one scale, decide/colour-scale.ts). */
function colourGradient(): string {
  const stops = Array.from({ length: 11 }, (_, i) => {
    const [r, g, b] = colourAt(i / 10).map(Math.round);
    return `rgb(${r},${g},${b}) ${i * 10}%`;
  });
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

function colourBar(s: ReportData['colourScale']): string {
  const span = s.hi > s.lo ? s.hi - s.lo : 1;
  const mark = s.pixelThreshold !== undefined
    ? `<span class="mark" style="left:${((100 * (s.pixelThreshold - s.lo)) / span).toFixed(2)}%" title="pixel threshold">▲ pixel threshold ${s.pixelThreshold.toPrecision(4)}</span>`
    : '';
  return `<div class="colour-bar" data-lo="${s.lo}" data-hi="${s.hi}"><div class="gradient" style="background:${colourGradient()}"></div>` +
    `<div class="ticks"><span>${s.lo.toPrecision(3)}</span><span>${((s.lo + s.hi) / 2).toPrecision(3)}</span><span>${s.hi.toPrecision(3)}</span></div>${mark}` +
    `<div class="what">map value (heatmap colour)</div></div>`;
}

/** JSON safe inside <script>: no "</script>" or "<!--" can end or open anything. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
const inlineScript = (code: string) => code.replace(/<\/script/gi, '<\\/script');
const asset = (relative: string) => readFileSync(packageFile(`src/eval/report-assets/${relative}`), 'utf8');

export function renderReport(d: ReportData): string {
  const notes = d.notes.length ? `<ul class="notes">${d.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : '';
  const t = d.threshold;
  const pageData = { charts: d.charts, images: d.images, threshold: t ?? null, marks: d.marks };
  const atThreshold = t ? ` at ${escapeHtml(t.label)}` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(d.title)}</title>
<style>${readFileSync(uplotFile('uPlot.min.css'), 'utf8')}</style>
<style>${asset('report.css')}</style>
</head><body>
<h1>${escapeHtml(d.title)}</h1>
<p class="meta">model: ${escapeHtml(d.model)}<br>data: ${escapeHtml(d.dataset)}<br>created: ${escapeHtml(d.createdAt)}</p>
<h2>Metrics (%)</h2>${table(d.rows)}${notes}
<h2>Operating point</h2>
<div class="operating">
  <div class="slider"><label for="threshold-slider">image threshold</label>
    <input type="range" id="threshold-slider"><input type="number" id="threshold-value" step="any" aria-label="image threshold value"></div>
  <div id="marks" class="marks"></div>
  <table id="confusion" class="confusion">
    <tr><th></th><th>flagged defect</th><th>passed</th><th>rate</th></tr>
    <tr><th>defective images</th><td id="tp"></td><td id="fn"></td><td>miss rate <b id="miss-rate"></b></td></tr>
    <tr><th>good images</th><td id="fp"></td><td id="tn"></td><td>false-alarm rate <b id="false-alarm-rate"></b></td></tr>
    <tr><th colspan="3">precision <b id="precision"></b>, recall <b id="recall"></b></th><td>F1 <b id="f1"></b></td></tr>
  </table>
</div>
<h2>Scores and curves</h2><div class="charts"><div class="chart" id="chart-histogram"></div><div id="curve-charts" class="charts"></div></div>
<h2>Images</h2>
<div class="images-layout">
  <div class="table-wrap"><table id="images" class="images"><thead><tr>
    <th data-sort="key">name</th><th data-sort="defect">defect type</th><th data-sort="score">score</th><th data-sort="verdict">verdict</th><th data-sort="regions">regions</th>
  </tr></thead><tbody></tbody></table></div>
  <div id="image-detail" class="image-detail" hidden>
    <h3 id="detail-title"></h3>
    <div class="panels">
      <figure><div class="panel" id="panel-input"></div><figcaption>input</figcaption></figure>
      <figure><div class="panel" id="panel-recon"></div><figcaption>reconstruction</figcaption></figure>
      <figure><div class="panel" id="panel-heatmap"></div><figcaption>heatmap, <span class="box-key">regions</span>, <span class="truth-key">ground truth</span></figcaption></figure>
    </div>
    ${colourBar(d.colourScale)}
  </div>
</div>
<h2>Gallery</h2>
${gallery(`Misses${atThreshold}: defective images scored below it, lowest first`, d.misses, t ? 'none: every defective image is detected at this threshold' : 'no threshold')}
${gallery(`False alarms${atThreshold}: good images scored at or above it, highest first`, d.falseAlarms, t ? 'none: every good image passes at this threshold' : 'no threshold')}
<script type="application/json" id="report-data">${scriptJson(pageData)}</script>
<script>${inlineScript(readFileSync(uplotFile('uPlot.iife.min.js'), 'utf8'))}</script>
<script>${inlineScript(asset('report.js'))}</script>
</body></html>
`;
}
