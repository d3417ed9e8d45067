/**
 * Inline SVG charts for report.html (no scripts, no external assets): line charts for ROC / PRO curves and a
 * two-class score histogram with the decision threshold marked.
 */

export interface Series {
  name: string;
  x: readonly number[];
  y: readonly number[];
  color: string;
}

const W = 360;
const H = 300;
const M = { left: 48, right: 22, top: 28, bottom: 40 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fmt = (v: number) => (Math.round(v * 100) / 100).toString();

function frame(title: string, xLabel: string, yLabel: string, xTicks: number[], yTicks: number[], sx: (v: number) => number, sy: (v: number) => number, xTickLabel: (v: number) => string = fmt): string {
  const parts = [
    `<rect x="${M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="#fff" stroke="#999"/>`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${escapeHtml(title)}</text>`,
    `<text x="${M.left + PW / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${escapeHtml(xLabel)}</text>`,
    `<text transform="translate(12 ${M.top + PH / 2}) rotate(-90)" text-anchor="middle" font-size="11">${escapeHtml(yLabel)}</text>`,
  ];
  for (const t of xTicks) {
    parts.push(`<line x1="${sx(t)}" y1="${M.top + PH}" x2="${sx(t)}" y2="${M.top + PH + 4}" stroke="#666"/>`);
    parts.push(`<text x="${sx(t)}" y="${M.top + PH + 15}" text-anchor="middle" font-size="10">${xTickLabel(t)}</text>`);
  }
  for (const t of yTicks) {
    parts.push(`<line x1="${M.left - 4}" y1="${sy(t)}" x2="${M.left}" y2="${sy(t)}" stroke="#666"/>`);
    parts.push(`<text x="${M.left - 6}" y="${sy(t) + 3}" text-anchor="end" font-size="10">${fmt(t)}</text>`);
  }
  return parts.join('');
}

function polyline(x: readonly number[], y: readonly number[], sx: (v: number) => number, sy: (v: number) => number): string {
  let d = '';
  for (let k = 0; k < x.length; k++) d += `${k === 0 ? 'M' : 'L'}${sx(x[k]!).toFixed(1)} ${sy(y[k]!).toFixed(1)}`;
  return d;
}

/** A curve chart on [0, xMax] × [0, 1] (ROC, PRO), optionally with a dashed vertical marker and the diagonal. */
export function curveChart(opts: {
  title: string; xLabel: string; yLabel: string; series: Series[]; xMax?: number; marker?: { x: number; label: string }; diagonal?: boolean;
}): string {
  const xMax = opts.xMax ?? 1;
  const sx = (v: number) => M.left + (Math.min(v, xMax) / xMax) * PW;
  const sy = (v: number) => M.top + PH - v * PH;
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const parts = [frame(opts.title, opts.xLabel, opts.yLabel, ticks.map((t) => t * xMax), ticks, sx, sy)];
  if (opts.diagonal) parts.push(`<line x1="${sx(0)}" y1="${sy(0)}" x2="${sx(xMax)}" y2="${sy(xMax)}" stroke="#bbb" stroke-dasharray="3 3"/>`);
  if (opts.marker) {
    const x = sx(opts.marker.x);
    parts.push(`<line x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + PH}" stroke="#555" stroke-dasharray="5 3"/>`);
    parts.push(`<text x="${x + 3}" y="${M.top + 12}" font-size="10">${escapeHtml(opts.marker.label)}</text>`);
  }
  opts.series.forEach((s, i) => {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let k = 0; k < s.x.length; k++) {
      if (s.x[k]! <= xMax) { xs.push(s.x[k]!); ys.push(s.y[k]!); continue; }
      // cut the segment that crosses xMax with a linearly interpolated point, as the AUPRO integral does
      const x0 = s.x[k - 1]!, y0 = s.y[k - 1]!;
      xs.push(xMax);
      ys.push(y0 + ((s.y[k]! - y0) * (xMax - x0)) / (s.x[k]! - x0));
      break;
    }
    parts.push(`<path class="curve" data-points="${xs.length}" d="${polyline(xs, ys, sx, sy)}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`);
    parts.push(`<rect x="${M.left + PW - 150}" y="${M.top + PH - 16 - 14 * i}" width="10" height="3" fill="${s.color}"/>`);
    parts.push(`<text x="${M.left + PW - 136}" y="${M.top + PH - 12 - 14 * i}" font-size="10">${escapeHtml(s.name)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">${parts.join('')}</svg>`;
}

/** Histogram of good vs defective image scores on shared bins, with the threshold as a vertical line. */
export function scoreHistogram(opts: { good: readonly number[]; defective: readonly number[]; threshold?: { value: number; label: string }; bins?: number }): string {
  const bins = opts.bins ?? 30;
  const all = [...opts.good, ...opts.defective, ...(opts.threshold ? [opts.threshold.value] : [])];
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
  const count = (values: readonly number[]) => {
    const c = new Array<number>(bins).fill(0);
    for (const v of values) c[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins))]!++;
    // as fractions of each class, so that classes of different sizes compare
    return c.map((n) => n / Math.max(values.length, 1));
  };
  const g = count(opts.good);
  const d = count(opts.defective);
  const top = Math.max(...g, ...d, 1e-9);
  const sx = (v: number) => M.left + ((v - lo) / (hi - lo)) * PW;
  const sy = (v: number) => M.top + PH - (v / top) * PH;
  const xTicks = [0, 0.25, 0.5, 0.75, 1].map((t) => lo + t * (hi - lo));
  const yTicks = [0, 0.5, 1].map((t) => t * top);
  const parts = [frame('Image scores: good vs defective', 'image score', 'fraction of class', xTicks, yTicks, sx, sy, (v) => v.toPrecision(3))];
  const bar = (values: number[], color: string, cls: string) => {
    const w = PW / bins;
    values.forEach((v, b) => {
      if (v > 0) parts.push(`<rect class="${cls}" x="${(M.left + b * w).toFixed(1)}" y="${sy(v).toFixed(1)}" width="${(w - 0.5).toFixed(1)}" height="${(M.top + PH - sy(v)).toFixed(1)}" fill="${color}" fill-opacity="0.55"/>`);
    });
  };
  bar(g, '#2b8a3e', 'bar-good');
  bar(d, '#c92a2a', 'bar-defective');
  if (opts.threshold) {
    const x = sx(opts.threshold.value);
    parts.push(`<line class="threshold" x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + PH}" stroke="#000" stroke-width="1.5" stroke-dasharray="6 3"/>`);
    parts.push(`<text x="${x + 3}" y="${M.top + 12}" font-size="10">${escapeHtml(opts.threshold.label)}</text>`);
  }
  parts.push(`<rect x="${M.left + PW - 90}" y="${M.top + 20}" width="10" height="10" fill="#2b8a3e" fill-opacity="0.55"/><text x="${M.left + PW - 76}" y="${M.top + 29}" font-size="10">good (${opts.good.length})</text>`);
  parts.push(`<rect x="${M.left + PW - 90}" y="${M.top + 34}" width="10" height="10" fill="#c92a2a" fill-opacity="0.55"/><text x="${M.left + PW - 76}" y="${M.top + 43}" font-size="10">defective (${opts.defective.length})</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">${parts.join('')}</svg>`;
}
