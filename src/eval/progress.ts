import { formatDuration, ProgressLine, progressBar } from '../util/progress.js';

/**
 * Progress of scoring a dataset on stderr (util/progress.ts): redrawn in place on a terminal; on a pipe or log
 * file, one line per 10 %.
 *   eval [##########··········] 291/583  49.9%  3.1 img/s  ETA 1m34s
 */
export interface Progress {
  tick(n?: number): void;
  done(): void;
}

export function createProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr, enabled = true): Progress {
  const start = performance.now();
  const out = new ProgressLine(stream, enabled);
  let count = 0;
  let lastDecile = -1;
  const line = (): string => {
    const frac = total > 0 ? count / total : 1;
    const elapsed = (performance.now() - start) / 1000;
    const rate = count / Math.max(elapsed, 1e-3);
    const eta = rate > 0 ? ((total - count) / rate) * 1000 : Infinity;
    return `${label} ${progressBar(frac)} ${count}/${total} ${(frac * 100).toFixed(1).padStart(5)}%  ${rate.toFixed(1)} img/s  ETA ${formatDuration(eta)}`;
  };
  return {
    tick(n = 1) {
      count += n;
      const decile = Math.floor((count / Math.max(total, 1)) * 10);
      out.show(line(), decile > lastDecile);
      lastDecile = Math.max(lastDecile, decile);
    },
    done() {
      if (out.tty) out.show(line(), true);
      out.done();
    },
  };
}
