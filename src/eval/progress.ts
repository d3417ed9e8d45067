/**
 * A progress bar on stderr: redrawn in place on a terminal; on a pipe or log file, one line per 10 %.
 *   eval [##########··········] 291/583  49.9%  3.1 img/s  ETA 1m34s
 */
export interface Progress {
  tick(n?: number): void;
  done(): void;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

export function createProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr, enabled = true): Progress {
  const start = performance.now();
  let count = 0;
  let lastDecile = -1;
  const tty = Boolean(stream.isTTY);
  const line = (): string => {
    const frac = total > 0 ? count / total : 1;
    const width = 20;
    const filled = Math.round(frac * width);
    const elapsed = (performance.now() - start) / 1000;
    const rate = count / Math.max(elapsed, 1e-3);
    const eta = rate > 0 ? (total - count) / rate : Infinity;
    return `${label} [${'#'.repeat(filled)}${'·'.repeat(width - filled)}] ${count}/${total} ${(frac * 100).toFixed(1).padStart(5)}%  ${rate.toFixed(1)} img/s  ETA ${formatSeconds(eta)}`;
  };
  return {
    tick(n = 1) {
      count += n;
      if (!enabled) return;
      if (tty) stream.write(`\r${line()}`);
      else {
        const decile = Math.floor((count / Math.max(total, 1)) * 10);
        if (decile > lastDecile) { lastDecile = decile; stream.write(`${line()}\n`); }
      }
    },
    done() {
      if (enabled && tty) stream.write(`\r${line()}\n`);
    },
  };
}
