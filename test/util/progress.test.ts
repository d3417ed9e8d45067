import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/eval/progress.js';
import { formatProgress, ProgressBar } from '../../src/train/progress.js';
import { formatDuration, ProgressLine, progressBar } from '../../src/util/progress.js';

// Issue 20, item 5: one progress display for eval, train and build-engine.

/** A stream double: what was written, and whether it claims to be a terminal. */
function stream(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  const chunks: string[] = [];
  return { isTTY, write: (s: string) => (chunks.push(s), true), text: () => chunks.join('') } as unknown as NodeJS.WriteStream & { text: () => string };
}

describe('ProgressLine', () => {
  it('on a terminal: redraws in place and erases to the end of the line, so no stale characters stay', () => {
    const s = stream(true);
    const out = new ProgressLine(s);
    out.show('a long line 100%', false);
    out.show('short', false);
    out.show('short', true); // unchanged: not written again
    out.message('note');
    out.done();
    expect(s.text()).toBe('\ra long line 100%\x1b[K\rshort\x1b[K\nnote\n');
  });

  it('in a log: only the lines worth keeping, one per line; nothing when disabled', () => {
    const s = stream(false);
    const out = new ProgressLine(s);
    out.show('10%', false);
    out.show('20%', true);
    out.message('note');
    out.done();
    expect(s.text()).toBe('20%\nnote\n');
    const off = stream(true);
    new ProgressLine(off, false).show('x', true);
    expect(off.text()).toBe('');
  });

  it('one bar and one duration format', () => {
    expect([progressBar(0, 4), progressBar(0.5, 4), progressBar(1.2, 4)]).toEqual(['[····]', '[##··]', '[####]']);
    expect([formatDuration(135_000), formatDuration(3_900_000), formatDuration(Infinity)]).toEqual(['2m15s', '1h05m', '?']);
  });
});

describe('the commands use it', () => {
  it('eval: one line per 10 % in a log, the same bar as train', () => {
    const s = stream(false);
    const p = createProgress('eval', 20, s);
    for (let i = 0; i < 20; i++) p.tick();
    p.done();
    const lines = s.text().trimEnd().split('\n');
    expect(lines).toHaveLength(11); // 0 % is not reached by a tick; 5 %, then one per decile up to 100 %
    expect(lines.at(-1)).toMatch(/^eval \[#{20}\] 20\/20 100\.0% {2}[\d.]+ img\/s {2}ETA 0m00s$/);
  });

  it('train: the same bar and a clear-to-end redraw on a terminal', () => {
    const terms = { step: 5, totalSteps: 10, epoch: 1, total: 0.5, l2: 0.1, ssim: 0.4, entropy: 2.5, stepMs: 1000, lr: 1e-4 };
    expect(formatProgress(terms)).toMatch(/^\[#{10}·{10}\] step 5\/10 /);
    const s = stream(true);
    const bar = new ProgressBar(s);
    bar.update(terms);
    bar.done();
    expect(s.text()).toBe(`\r${formatProgress(terms)}\x1b[K\n`);
  });
});
