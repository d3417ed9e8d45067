import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it, vi } from 'vitest';
import { MmaerecError } from '../../src/errors.js';
import { SCORE_BYTES_PER_PIXEL, scoreFiles } from '../../src/score/score-files.js';

const dir = mkdtempSync(join(tmpdir(), 'mmaerec-score-files-'));

describe('scoreFiles memory bound', () => {
  it('refuses, from the headers and before decoding, a pair whose scoring would need more memory than the machine has', async () => {
    const [w, h] = [64, 48];
    const a = join(dir, 'a.png');
    const b = join(dir, 'b.png');
    await sharp({ create: { width: w, height: h, channels: 3, background: { r: 90, g: 100, b: 110 } } }).png().toFile(a);
    await sharp({ create: { width: w, height: h, channels: 3, background: { r: 95, g: 100, b: 110 } } }).png().toFile(b);
    const need = w * h * SCORE_BYTES_PER_PIXEL;
    const raw = vi.spyOn(sharp.prototype, 'raw');
    await expect(scoreFiles(a, b, { memoryBytes: need - 1 })).rejects.toThrow(
      new MmaerecError('E_INPUT', `scoring 64×48 needs about 1 MiB of memory (${SCORE_BYTES_PER_PIXEL} bytes per pixel), more than the 1 MiB this machine has: crop or downscale both images`),
    );
    expect(raw).not.toHaveBeenCalled();
    const ok = await scoreFiles(a, b, { memoryBytes: need });
    expect([ok.width, ok.height, ok.map.length]).toEqual([w, h, w * h]);
    expect(raw).toHaveBeenCalledTimes(2);
    raw.mockRestore();
    // the default is this machine's memory: a model-sized pair passes
    expect((await scoreFiles(a, b)).score).toBeGreaterThan(0);
  });
});
