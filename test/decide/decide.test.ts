import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { colourMap, renderHeatmap } from '../../src/decide/heatmap.js';
import { regionsToFrame } from '../../src/decide/map-regions.js';
import { thresholdsInForce, verdictFor } from '../../src/decide/verdict.js';

describe('verdict and thresholds', () => {
  it('is a defect at or above the image threshold', () => {
    expect(verdictFor(0.5, 0.5)).toBe('defect');
    expect(verdictFor(0.4999, 0.5)).toBe('ok');
  });

  it('uses the bundle thresholds unless overridden, and says which', () => {
    const bundle = { image: 0.3, pixel: 0.2, source: 'calibrate --rule f1' };
    expect(thresholdsInForce(bundle)).toEqual({ image: 0.3, pixel: 0.2, source: 'calibrate --rule f1' });
    expect(thresholdsInForce(bundle, { image: 0.25 })).toEqual({ image: 0.25, pixel: 0.2, source: 'override (bundle: calibrate --rule f1)' });
    expect(() => thresholdsInForce(bundle, { pixel: NaN })).toThrow(/finite number for thresholds.pixel/);
  });
});

describe('regionsToFrame', () => {
  it('maps boxes and areas through resize and ROI offset, strongest first', () => {
    const roi = { x: 100, y: 40, width: 128, height: 64 }; // map 32×32: x×4, y×2
    const out = regionsToFrame(
      [
        { x: 0, y: 0, width: 2, height: 2, area: 3, maxScore: 0.4, meanScore: 0.35 },
        { x: 10, y: 5, width: 4, height: 1, area: 4, maxScore: 0.9, meanScore: 0.6 },
      ],
      32, 32, roi,
    );
    expect(out).toEqual([
      { x: 140, y: 50, width: 16, height: 2, area: 32, maxScore: 0.9, meanScore: 0.6 },
      { x: 100, y: 40, width: 8, height: 4, area: 24, maxScore: 0.4, meanScore: 0.35 },
    ]);
  });
});

describe('heatmap', () => {
  it('colours low scores blue and faint, high scores red and opaque', () => {
    const rgba = colourMap(new Float32Array([0, 1, NaN]), [0, 1], 0.6);
    expect([...rgba.slice(0, 4)]).toEqual([48, 18, 59, 38]);
    expect([...rgba.slice(4, 8)]).toEqual([122, 4, 3, 153]);
    expect([...rgba.slice(8, 12)]).toEqual([122, 4, 3, 153]); // non-finite shows as hottest, never hidden
  });

  it('overlays the map on the original frame within the ROI, as PNG and JPEG', async () => {
    const w = 20, h = 10;
    const gray = new Uint8Array(w * h * 3).fill(128);
    const frame = { id: 'f', capturedAt: 0, image: new Uint8Array(await sharp(gray, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer()) };
    const map = new Float32Array(4 * 4).fill(0.75); // orange-red everywhere in the ROI (scale [0, 1])
    const roi = { x: 10, y: 0, width: 10, height: 10 };
    const png = await renderHeatmap(frame, map, 4, 4, roi, 0.5);
    expect(png).toMatchObject({ format: 'png', width: 20, height: 10 });
    const { data } = await sharp(png.data).raw().toBuffer({ resolveWithObject: true });
    expect([...data.subarray(0, 3)]).toEqual([128, 128, 128]); // outside the ROI: untouched
    const inside = (5 * w + 15) * 3;
    expect(data[inside]!).toBeGreaterThan(128); // red raised
    expect(data[inside + 2]!).toBeLessThan(128); // blue lowered
    const jpeg = await renderHeatmap({ id: 'r', capturedAt: 0, image: { width: w, height: h, channels: 3, data: gray } }, map, 4, 4, roi, 0.5, { format: 'jpeg' });
    expect(jpeg.format).toBe('jpeg');
    expect([...jpeg.data.subarray(0, 2)]).toEqual([0xff, 0xd8]);
  });
});
