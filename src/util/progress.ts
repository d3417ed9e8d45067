/**
 * The one progress display of the long commands (eval, calibrate, train, build-engine), so they look alike and
 * behave alike. On a terminal one line is redrawn in place: carriage return, the text, then "erase to end of
 * line" (ESC [K), so a shorter line never leaves characters of a longer one behind. Elsewhere (a pipe, a log
 * file, systemd) nothing is redrawn: the caller says which lines are worth keeping (every 10 %, every n steps,
 * a change of phase) and those are printed one per line.
 *
 * Hand-written because the three needs differ (a count with a rate, loss terms with an ETA, TensorRT phases with
 * no known total) and the libraries that exist (cli-progress and the like) print nothing when stderr is not a
 * terminal, which is where an unattended controller's logs go.
 */

const CLEAR_TO_END = '\x1b[K';

/** `[######··············]`: the fraction done, in `width` cells. */
export function progressBar(fraction: number, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'·'.repeat(width - filled)}]`;
}

/** 1h05m, 2m15s, 0m07s; `?` when unknown (infinite or NaN). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
}

export class ProgressLine {
  readonly tty: boolean;
  private shown = '';

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly enabled = true,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  /** Shows `line`: redrawn in place on a terminal; elsewhere printed only when `keep` is true. */
  show(line: string, keep: boolean): void {
    if (!this.enabled) return;
    if (this.tty) {
      if (line !== this.shown) this.stream.write(`\r${line}${CLEAR_TO_END}`);
      this.shown = line;
    } else if (keep) {
      this.stream.write(`${line}\n`);
    }
  }

  /** A message on a line of its own (ends the redrawn line first, so the two never share a line). */
  message(text: string): void {
    if (!this.enabled) return;
    this.done();
    this.stream.write(`${text}\n`);
  }

  /** Ends the redrawn line (the last state stays on screen). */
  done(): void {
    if (this.enabled && this.tty && this.shown) this.stream.write('\n');
    this.shown = '';
  }
}
