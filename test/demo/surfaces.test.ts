import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFECT_KINDS, defectiveSurface, goodSurface } from '../../src/demo/surfaces.js';

const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('procedural surfaces', () => {
  it('are deterministic for a seed and differ between seeds', () => {
    expect(digest(goodSurface(64, 48, 7).rgb)).toBe(digest(goodSurface(64, 48, 7).rgb));
    expect(digest(goodSurface(64, 48, 7).rgb)).not.toBe(digest(goodSurface(64, 48, 8).rgb));
  });

  it('good surfaces have an empty mask and a mid-grey, slightly blue tint', () => {
    const s = goodSurface(64, 64, 3);
    expect(s.mask.every((v) => v === 0)).toBe(true);
    let r = 0;
    let b = 0;
    for (let i = 0; i < s.rgb.length; i += 3) {
      r += s.rgb[i]!;
      b += s.rgb[i + 2]!;
    }
    const n = s.rgb.length / 3;
    expect(r / n).toBeGreaterThan(80);
    expect(r / n).toBeLessThan(180);
    expect(b).toBeGreaterThan(r);
  });

  it.each(DEFECT_KINDS)('a %s defect changes exactly the masked pixels', (kind) => {
    const good = goodSurface(96, 96, 11);
    const bad = defectiveSurface(96, 96, 11, kind);
    let masked = 0;
    for (let i = 0; i < 96 * 96; i++) {
      const changed = [0, 1, 2].some((c) => good.rgb[i * 3 + c] !== bad.rgb[i * 3 + c]);
      if (bad.mask[i]) masked++;
      else expect(changed).toBe(false);
    }
    expect(masked).toBeGreaterThan(10);
    expect(masked).toBeLessThan(96 * 96 * 0.2);
  });
});
