/**
 * A progress line on stderr: step, epoch, loss terms, step time and ETA. On a terminal it redraws one line;
 * otherwise (logs, CI) it prints a line every `every` steps so logs stay readable.
 */
export interface ProgressTerms {
  step: number;
  totalSteps: number;
  epoch: number;
  total: number;
  l2: number;
  ssim: number;
  entropy: number;
  stepMs: number;
  lr: number;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
}

export function formatProgress(t: ProgressTerms, width = 20): string {
  const frac = t.totalSteps > 0 ? t.step / t.totalSteps : 1;
  const filled = Math.round(frac * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  const eta = formatDuration((t.totalSteps - t.step) * t.stepMs);
  return (
    `${bar} step ${t.step}/${t.totalSteps} ep ${t.epoch} | loss ${t.total.toFixed(4)} ` +
    `(l2 ${t.l2.toFixed(4)} ssim ${t.ssim.toFixed(4)} ent ${t.entropy.toFixed(3)}) | ` +
    `${(t.stepMs / 1000).toFixed(2)} s/step lr ${t.lr.toExponential(1)} | ETA ${eta}`
  );
}

export class ProgressBar {
  private readonly tty: boolean;
  private lastLength = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly every = 10,
    private readonly enabled = true,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  update(t: ProgressTerms): void {
    if (!this.enabled) return;
    const line = formatProgress(t);
    if (this.tty) {
      this.stream.write(`\r${line.padEnd(this.lastLength)}`);
      this.lastLength = line.length;
    } else if (t.step % this.every === 0 || t.step === t.totalSteps || t.step === 1) {
      this.stream.write(`${line}\n`);
    }
  }

  /** A message on its own line (ends the redrawn line first). */
  log(message: string): void {
    if (!this.enabled) return;
    if (this.tty && this.lastLength) this.stream.write('\n');
    this.lastLength = 0;
    this.stream.write(`${message}\n`);
  }

  done(): void {
    if (this.enabled && this.tty && this.lastLength) this.stream.write('\n');
    this.lastLength = 0;
  }
}
