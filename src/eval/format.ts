import type { CalibrationResult } from './calibrate.js';
import type { SubsetMetrics } from './summarize.js';
import { formatScore } from '../util/format.js';

/** Human-readable summaries for the CLI (the JSON files hold everything). */
const pct = (v: number | null | undefined) => (v === null || v === undefined ? '  n/a' : (v * 100).toFixed(1).padStart(5));

export function formatMetrics(metrics: Record<string, unknown>): string {
  const m = metrics as { overall: SubsetMetrics; perDefect: Record<string, SubsetMetrics>; notes: string[]; threshold: { image: number; source: string; falsePositiveRate: number | null; missRate: number | null } | null };
  const lines = ['subset           good  defect  imgAUROC  pxAUROC   pxAP  AUPRO  miss@1%FA  miss@5%FA'];
  const row = (name: string, s: SubsetMetrics) =>
    `${name.padEnd(16)} ${String(s.good).padStart(4)}  ${String(s.defective).padStart(6)}     ${pct(s.imageAuroc)}    ${pct(s.pixelAuroc)}  ${pct(s.pixelAp)}  ${pct(s.aupro)}      ${pct(s.missAt1PctFalseAlarms)}      ${pct(s.missAt5PctFalseAlarms)}`;
  lines.push(row('all', m.overall));
  for (const [name, s] of Object.entries(m.perDefect)) lines.push(row(name, s));
  if (m.threshold) {
    lines.push(`threshold ${formatScore(m.threshold.image)} (${m.threshold.source}): false alarms ${pct(m.threshold.falsePositiveRate).trim()}%, misses ${pct(m.threshold.missRate).trim()}%`);
  }
  for (const n of m.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

export function formatCalibration(r: CalibrationResult): string {
  const rate = (v: number | null) => (v === null ? 'n/a (no such data)' : `${(v * 100).toFixed(2)}%`);
  const op = r.thresholds.operatingPoint;
  return [
    `image threshold ${formatScore(r.thresholds.image)}, pixel threshold ${formatScore(r.thresholds.pixel)}`,
    `source: ${r.thresholds.source}`,
    ...(op
      ? [`operating point: ${rate(op.falseAlarmRate)} false alarms (${op.method} on ${op.images} good images; ${op.exceedances} at or above; ` +
          `95 % range of the rate ${rate(op.rateInterval95[0])}–${rate(op.rateInterval95[1])}; threshold range ${formatScore(op.thresholdRange90[0])}–${formatScore(op.thresholdRange90[1])})`]
      : []),
    ...r.warnings.map((w) => `warning: ${w}`),
    `expected on the data seen (${r.images.good} good, ${r.images.defective} defective images):`,
    `  images: false alarms ${rate(r.expected.image.falseAlarmRate)}, misses ${rate(r.expected.image.missRate)}`,
    `  pixels: false alarms ${rate(r.expected.pixel.falseAlarmRate)}, misses ${rate(r.expected.pixel.missRate)}`,
    r.written ? `manifest rewritten: sha256 ${r.manifestSha256.before.slice(0, 12)}… → ${r.manifestSha256.after.slice(0, 12)}…` : 'dry run: manifest unchanged',
  ].join('\n');
}
