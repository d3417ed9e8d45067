import { curveChart, escapeHtml, scoreHistogram } from './charts.js';
import type { CurvePoints } from './pixel-metrics.js';

/**
 * report.html: one self-contained page (inline CSS and SVG, images as data: URIs, no scripts, no external
 * assets) — the metrics table, ROC and PRO curves, the score histogram with the threshold, and a gallery of
 * the worst misses and false alarms (input, reconstruction, heatmap overlay, ground truth).
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

export interface ReportData {
  title: string;
  createdAt: string;
  model: string;
  dataset: string;
  rows: MetricsRow[];
  notes: string[];
  fprLimit: number;
  imageRoc?: CurvePoints;
  pixelRoc?: CurvePoints;
  pro?: CurvePoints;
  scores: { good: number[]; defective: number[] };
  threshold?: { value: number; label: string };
  /** Lowest-scoring defective images (misses when below the threshold). */
  misses: GalleryItem[];
  /** Highest-scoring good images (false alarms when at or above the threshold). */
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
  if (items.length === 0) return `<h3>${escapeHtml(title)}</h3><p>${escapeHtml(empty)}</p>`;
  const rows = items
    .map((it) => {
      const img = (src: string, alt: string) => `<figure><img src="${src}" alt="${escapeHtml(alt)}"><figcaption>${escapeHtml(alt)}</figcaption></figure>`;
      return `<div class="item"><div class="caption"><b>${escapeHtml(it.key)}</b> score ${it.score.toPrecision(4)} — ${escapeHtml(it.outcome)}</div>${img(it.input, 'input')}${img(it.recon, 'reconstruction')}${img(it.overlay, 'heatmap')}${img(it.truth, 'ground truth')}</div>`;
    })
    .join('');
  return `<h3>${escapeHtml(title)}</h3><div class="gallery">${rows}</div>`;
}

export function renderReport(d: ReportData): string {
  const rocSeries = [
    ...(d.imageRoc ? [{ name: 'image', x: d.imageRoc.x, y: d.imageRoc.y, color: '#1c7ed6' }] : []),
    ...(d.pixelRoc ? [{ name: 'pixel', x: d.pixelRoc.x, y: d.pixelRoc.y, color: '#e8590c' }] : []),
  ];
  const charts = [
    rocSeries.length ? curveChart({ title: 'ROC', xLabel: 'false positive rate', yLabel: 'true positive rate', series: rocSeries, diagonal: true }) : '',
    d.pro
      ? curveChart({
          title: `PRO (AUPRO integrates to FPR ${d.fprLimit})`, xLabel: 'false positive rate (pixels)', yLabel: 'per-region overlap',
          series: [{ name: 'PRO', x: d.pro.x, y: d.pro.y, color: '#7048e8' }], marker: { x: d.fprLimit, label: `FPR ${d.fprLimit}` },
        })
      : '',
    d.scores.good.length + d.scores.defective.length ? scoreHistogram({ good: d.scores.good, defective: d.scores.defective, ...(d.threshold ? { threshold: d.threshold } : {}) }) : '',
  ].join('');
  const notes = d.notes.length ? `<ul class="notes">${d.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(d.title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
table.metrics{border-collapse:collapse;margin:8px 0}table.metrics td,table.metrics th{border:1px solid #ccc;padding:3px 8px;text-align:right}
table.metrics th{background:#f4f4f4}td.na{color:#999}.charts{display:flex;flex-wrap:wrap;gap:12px}
.gallery{display:flex;flex-direction:column;gap:10px}.item{display:flex;gap:6px;align-items:flex-start;flex-wrap:wrap}
.caption{width:100%;font-size:12px}figure{margin:0}figure img{width:160px;height:160px;object-fit:contain;image-rendering:pixelated;border:1px solid #ddd;background:#000}
figcaption{font-size:11px;color:#666;text-align:center}.meta{color:#555}
</style></head><body>
<h1>${escapeHtml(d.title)}</h1>
<p class="meta">model: ${escapeHtml(d.model)}<br>data: ${escapeHtml(d.dataset)}<br>created: ${escapeHtml(d.createdAt)}</p>
<h2>Metrics (%)</h2>${table(d.rows)}${notes}
<h2>Curves</h2><div class="charts">${charts}</div>
<h2>Gallery</h2>
${gallery('Worst misses: lowest-scoring defective images', d.misses, 'no defective images')}
${gallery('Worst false alarms: highest-scoring good images', d.falseAlarms, 'no good images')}
</body></html>
`;
}
