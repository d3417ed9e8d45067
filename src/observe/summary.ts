import type { PipelineRecord } from '../decide/result.js';

/** Nearest-rank percentile of sorted values (p in [0, 100]). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface SummaryFigures {
  fps: number;
  p50Ms: number;
  p99Ms: number;
  frames: number;
  defects: number;
  errors: number;
  drops: number;
}

/**
 * The periodic one-line summary: throughput and end-to-end latency over the interval since the last line,
 * plus running totals. Cheap to feed (one push per record).
 */
export class RunSummary {
  private window: number[] = [];
  private windowStart: number;
  private totals = { frames: 0, defects: 0, errors: 0, drops: 0 };

  constructor(private readonly now: () => number = () => performance.now()) {
    this.windowStart = now();
  }

  add(record: PipelineRecord): void {
    if (record.kind === 'error') {
      this.totals.errors += 1;
      return;
    }
    this.totals.frames += 1;
    if (record.verdict === 'defect') this.totals.defects += 1;
    this.window.push(record.latency.totalMs);
  }

  setDrops(total: number): void {
    this.totals.drops = total;
  }

  /** Figures for the interval since the last call, and starts a new interval. */
  take(): SummaryFigures {
    const t = this.now();
    const seconds = Math.max(1e-9, (t - this.windowStart) / 1000);
    const sorted = this.window.sort((a, b) => a - b);
    const figures = { fps: sorted.length / seconds, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), ...this.totals };
    this.window = [];
    this.windowStart = t;
    return figures;
  }

  static line(f: SummaryFigures): string {
    const ms = (v: number): string => (Number.isNaN(v) ? '-' : v.toFixed(1));
    return `${f.fps.toFixed(2)} fps, latency p50 ${ms(f.p50Ms)} ms p99 ${ms(f.p99Ms)} ms; totals: ${f.frames} frames, ${f.defects} defects, ${f.errors} errors, ${f.drops} dropped`;
  }

  /**
   * The end of the final summary when sinks still hold messages: how many, where, and what happens to them
   * ('' when everything was delivered).
   */
  static undeliveredLine(left: readonly { sink: string; messages: number }[]): string {
    const total = left.reduce((n, l) => n + l.messages, 0);
    if (total === 0) return '';
    const where = left.map((l) => `${l.messages} in ${l.sink}`).join(', ');
    return `; ${total} ${total === 1 ? 'message' : 'messages'} left undelivered in the spool (${where}): not acknowledged by the broker; the next start on the same spool.dir delivers them`;
  }
}
