import { formatDuration, ProgressLine, progressBar } from '../util/progress.js';

/** Kept here for the training code that imports it from this file. */
export { formatDuration };

/**
 * A progress line on stderr (util/progress.ts): step, epoch, loss terms, step time and ETA. On a terminal it
 * redraws one line; otherwise (logs, CI) it prints a line every `every` steps so logs stay readable.
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

export function formatProgress(t: ProgressTerms, width = 20): string {
  const bar = progressBar(t.totalSteps > 0 ? t.step / t.totalSteps : 1, width);
  const eta = formatDuration((t.totalSteps - t.step) * t.stepMs);
  return (
    `${bar} step ${t.step}/${t.totalSteps} ep ${t.epoch} | loss ${t.total.toFixed(4)} ` +
    `(l2 ${t.l2.toFixed(4)} ssim ${t.ssim.toFixed(4)} ent ${t.entropy.toFixed(3)}) | ` +
    `${(t.stepMs / 1000).toFixed(2)} s/step lr ${t.lr.toExponential(1)} | ETA ${eta}`
  );
}

export class ProgressBar {
  private readonly out: ProgressLine;

  constructor(
    stream: NodeJS.WriteStream = process.stderr,
    private readonly every = 10,
    enabled = true,
  ) {
    this.out = new ProgressLine(stream, enabled);
  }

  update(t: ProgressTerms): void {
    this.out.show(formatProgress(t), t.step % this.every === 0 || t.step === t.totalSteps || t.step === 1);
  }

  /** A message on its own line (ends the redrawn line first). */
  log(message: string): void {
    this.out.message(message);
  }

  done(): void {
    this.out.done();
  }
}
