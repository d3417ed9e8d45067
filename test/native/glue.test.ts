import { describe, expect, it } from 'vitest';
import { nativeAddon } from '../../src/native.js';
import { needs, tools } from '../helpers/require-tool.js';


// The addon checks only what would be unsafe when called directly (out-of-bounds reads or writes); every other
// option is validated once, in TypeScript (FusedScorer), and passed through as is.
needs(tools.native()).describe('native glue', () => {
  const addon = nativeAddon()!;
  const rgb = new Float32Array(8 * 8 * 3);

  it('rejects wrong types and sizes with TypeError/RangeError', () => {
    expect(() => addon.fusedScore(new Float64Array(192) as unknown as Float32Array, rgb, 8, 8, {} as never)).toThrow(
      new TypeError('Expected a Float32Array for input'),
    );
    expect(() => addon.fusedScore(rgb, rgb.subarray(1), 8, 8, {} as never)).toThrow(new RangeError('Expected recon to have 192 elements but it has 191'));
    expect(() => addon.fusedScore(rgb, rgb, 0, 8, {} as never)).toThrow(TypeError);
    expect(() => addon.fusedScore(rgb, rgb, 8, 8, { structureWindow: 0 } as never)).toThrow(new RangeError('Expected structureWindow in 1..1048576'));
    expect(() => addon.fusedScore(rgb, rgb, 8, 8, { shadingWindow: -3 } as never)).toThrow(new RangeError('Expected shadingWindow in 1..1048576'));
    expect(() => addon.fusedScore(rgb, rgb, 8, 8, { scales: 5 } as never)).toThrow(/image too small for 5 MSGMS scales/);
    expect(() => addon.edgeMap(new Uint8Array(5), 2, 1, 3)).toThrow(RangeError);
    expect(() => addon.edgeMap(new Int16Array(2) as unknown as Uint8Array, 2, 1, 1)).toThrow(TypeError);
    expect(() => addon.regions(new Float32Array(3), 2, 2, 0.5)).toThrow(RangeError);
    expect(() => addon.boxMean(new Float32Array(4), 2, 2, 2, 'valid')).toThrow(new RangeError('Expected k to be odd'));
    expect(() => addon.rgbToLab(new Float32Array(4))).toThrow(RangeError);
    expect(() => addon.setThreads(0)).toThrow(TypeError);
    expect(() => addon.setDevice('gpu' as 'cuda')).toThrow(TypeError);
  });

  it('works off the JS thread: the call returns a pending promise, the event loop keeps turning', async () => {
    const w = 512;
    const a = new Float32Array(w * w * 3).fill(0.5);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const pending = addon.fusedScore(a, a, w, w, {} as never);
    expect(pending).toBeInstanceOf(Promise);
    const { score, map, device } = await pending;
    clearInterval(timer);
    expect(map).toHaveLength(w * w);
    expect(score).toBeCloseTo(0, 6);
    expect(device).toBe(addon.info().cuda.available ? 'cuda' : 'cpu');
    expect(ticks).toBeGreaterThan(0);
  });

  it('reports NaN input as a rejected RangeError naming the element', async () => {
    const bad = rgb.slice();
    bad[4] = Number.NaN;
    await expect(addon.fusedScore(rgb, bad, 8, 8, { scales: 2 } as never)).rejects.toThrow(
      new RangeError('recon has a non-finite value at element 4 (pixel 1): pass finite RGB values (a NaN reconstruction means the inference back end failed)'),
    );
  });

  it('info says whether CUDA is compiled in and why it is (not) used', async () => {
    const info = addon.info();
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(typeof info.cuda.compiled).toBe('boolean');
    if (!info.cuda.available) expect(info.cuda.reason.length).toBeGreaterThan(0);
    if (info.cuda.compiled && !info.cuda.available) {
      addon.setDevice('cuda');
      try {
        await expect(addon.fusedScore(rgb, rgb, 8, 8, { scales: 2 } as never)).rejects.toThrow(/device 'cuda' requested but no CUDA device is usable/);
      } finally {
        addon.setDevice('auto');
      }
    }
  });
});
