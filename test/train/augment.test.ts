import { describe, expect, it } from 'vitest';
import { DEFAULT_AUGMENT, rotateImage, shiftHueBrightness, synthesize } from '../../src/train/augment.js';
import { perlinMask } from '../../src/train/perlin.js';
import { Rng } from '../../src/train/rng.js';

function ramp(w: number, h: number): Float32Array {
  const img = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) img[(y * w + x) * 3 + c] = ((x + 2 * y + 7 * c) % 32) / 32;
  return img;
}

describe('Rng', () => {
  it('is deterministic per seed and resumes from its saved state', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    expect([a.next(), a.next(), a.int(10)]).toEqual([b.next(), b.next(), b.int(10)]);
    const saved = a.state();
    const ahead = [a.next(), a.uint32(), a.normal()];
    const resumed = new Rng(saved);
    expect([resumed.next(), resumed.uint32(), resumed.normal()]).toEqual(ahead);
    expect(new Rng(43).next()).not.toBe(new Rng(42).next());
  });

  it('draws uniformly and permutes every index once', () => {
    const r = new Rng(1);
    let sum = 0;
    for (let i = 0; i < 20000; i++) sum += r.next();
    expect(sum / 20000).toBeCloseTo(0.5, 1);
    expect(r.permutation(50).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('Perlin masks', () => {
  it('threshold a smooth noise field into a partial, reproducible mask', () => {
    const opts = { minExp: 0, maxExp: 6, threshold: 0.5 };
    const fractions: number[] = [];
    for (let seed = 0; seed < 20; seed++) {
      const m = perlinMask(64, 64, new Rng(seed), opts);
      expect(perlinMask(64, 64, new Rng(seed), opts)).toEqual(m);
      fractions.push(m.reduce((s, v) => s + v, 0) / m.length);
    }
    expect(Math.max(...fractions)).toBeGreaterThan(0.01);
    expect(Math.max(...fractions)).toBeLessThan(0.6);
  });
});

describe('synthetic anomalies', () => {
  const w = 32;
  const h = 32;
  it('leave the input equal to the target when both probabilities are 0', () => {
    const img = ramp(w, h);
    const { input, target } = synthesize(img, ramp(w, h).reverse(), w, h, new Rng(3), { ...DEFAULT_AUGMENT, perlinP: 0, cutPasteP: 0 });
    expect(input).toEqual(target);
    expect(target).toEqual(img);
  });

  it('corrupt the input but never the clean target', () => {
    const img = ramp(w, h);
    const texture = new Float32Array(img.length).fill(0.9);
    let changed = 0;
    for (let seed = 0; seed < 10; seed++) {
      const { input, target } = synthesize(img, texture, w, h, new Rng(seed), { ...DEFAULT_AUGMENT, perlinP: 1, cutPasteP: 1 });
      expect(target).toEqual(img);
      for (let i = 0; i < input.length; i++) if (Math.abs(input[i]! - img[i]!) > 1e-6) changed++;
      for (const v of input) expect(v >= 0 && v <= 1).toBe(true);
    }
    expect(changed).toBeGreaterThan(100);
  });

  it('rotation by 0° is the identity and by 180° flips both axes', () => {
    const img = ramp(8, 8);
    expect(rotateImage(img, 8, 8, 0)).toEqual(img);
    const r = rotateImage(img, 8, 8, 180);
    expect(r[0]).toBeCloseTo(img[(7 * 8 + 7) * 3]!, 5);
  });

  it('hue shift by a full turn and brightness 1 keep the colours', () => {
    const img = ramp(4, 4);
    const out = shiftHueBrightness(img, 1, 1);
    for (let i = 0; i < img.length; i++) expect(out[i]).toBeCloseTo(img[i]!, 5);
    const grey = new Float32Array([0.5, 0.5, 0.5]);
    expect(Array.from(shiftHueBrightness(grey, 0.3, 1.2))).toEqual([0.6, 0.6, 0.6].map((v) => Math.fround(v)));
  });
});
