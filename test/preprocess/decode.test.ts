import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/preprocess/decode.js';
import { mapAreaToFrame, mapBoxToFrame, resolveRoi } from '../../src/preprocess/roi.js';
import { firstNonFinite, planarToHwc, rgbToTensors } from '../../src/preprocess/tensors.js';
import type { Frame } from '../../src/capture/frame.js';

/** 40×20: left half pure red, right half pure blue. */
function halves(): Uint8Array {
  const w = 40, h = 20;
  const px = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set(x < 20 ? [255, 0, 0] : [0, 0, 255], (y * w + x) * 3);
  return px;
}
const frame = (image: Frame['image'], id = 'f1'): Frame => ({ id, capturedAt: 0, image });
async function png(raw: Uint8Array, w: number, h: number, channels: 1 | 3 | 4 = 3): Promise<Uint8Array> {
  return new Uint8Array(await sharp(raw, { raw: { width: w, height: h, channels } }).png().toBuffer());
}

describe('decodeFrame', () => {
  it('decodes a PNG, crops the ROI and resizes to the model input (RGB order kept)', async () => {
    const bytes = await png(halves(), 40, 20);
    const d = await decodeFrame(frame(bytes), 8, 8, { x: 20, y: 0, width: 20, height: 20 });
    expect(d).toMatchObject({ width: 8, height: 8, frameWidth: 40, frameHeight: 20, roi: { x: 20, y: 0, width: 20, height: 20 } });
    expect(d.rgb.length).toBe(8 * 8 * 3);
    expect([...d.rgb.slice(0, 6)]).toEqual([0, 0, 255, 0, 0, 255]);
    const whole = await decodeFrame(frame(bytes), 4, 2);
    expect([...whole.rgb.slice(0, 3)]).toEqual([255, 0, 0]);
    expect([...whole.rgb.slice(9, 12)]).toEqual([0, 0, 255]);
  });

  it('expands grayscale and drops alpha: always 3 channels', async () => {
    const gray = await png(new Uint8Array(16).fill(100), 4, 4, 1);
    expect([...(await decodeFrame(frame(gray), 4, 4)).rgb.slice(0, 3)]).toEqual([100, 100, 100]);
    const rgba = { width: 2, height: 2, channels: 4 as const, data: new Uint8Array([1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0]) };
    expect([...(await decodeFrame(frame(rgba), 2, 2)).rgb]).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
  });

  it('passes raw RGB at the model size through without a copy', async () => {
    const data = new Uint8Array(4 * 4 * 3).fill(7);
    const d = await decodeFrame(frame({ width: 4, height: 4, channels: 3, data }), 4, 4);
    expect(d.rgb).toBe(data);
  });

  it('rejects undecodable bytes with E_INPUT naming the frame and the fix', async () => {
    await expect(decodeFrame(frame(new Uint8Array([1, 2, 3, 4, 5]), 'junk'), 8, 8)).rejects.toMatchObject({
      code: 'E_INPUT',
      message: expect.stringMatching(/^frame junk: cannot decode the image \(.+\): send a complete PNG, JPEG/),
    });
    await expect(decodeFrame(frame(new Uint8Array(0)), 8, 8)).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/empty image/) });
  });

  it('rejects truncated PNG and JPEG files (a camera still writing) with E_INPUT', async () => {
    const noisy = new Uint8Array(64 * 64 * 3).map((_, i) => (i * 7919) % 251);
    const p = await png(noisy, 64, 64);
    const j = new Uint8Array(await sharp(noisy, { raw: { width: 64, height: 64, channels: 3 } }).jpeg().toBuffer());
    for (const [bytes, id] of [[p.subarray(0, Math.floor(p.length / 2)), 'half.png'], [j.subarray(0, Math.floor(j.length / 2)), 'half.jpg']] as const) {
      await expect(decodeFrame(frame(bytes, id), 16, 16)).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringContaining(`frame ${id}: cannot decode`) });
    }
  });

  it('rejects a raw frame of the wrong size with E_INPUT giving the expected byte count', async () => {
    const bad = { width: 10, height: 10, channels: 3 as const, data: new Uint8Array(299) };
    await expect(decodeFrame(frame(bad, 'cam-7'), 8, 8)).rejects.toMatchObject({
      code: 'E_INPUT',
      message: "frame cam-7: raw image has 299 bytes, expected 10×10×3 = 300: check the camera's width, height and pixel format",
    });
    const zero = { width: 0, height: 10, channels: 3 as const, data: new Uint8Array(0) };
    await expect(decodeFrame(frame(zero), 8, 8)).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/not a valid size/) });
  });

  it('rejects an ROI outside the frame with E_INPUT', async () => {
    const bytes = await png(halves(), 40, 20);
    await expect(decodeFrame(frame(bytes), 8, 8, { x: 30, y: 0, width: 20, height: 20 })).rejects.toMatchObject({
      code: 'E_INPUT',
      message: 'roi 20×20+30+0 does not fit the 40×20 frame: fix roi in the config or the camera resolution',
    });
  });
});

describe('ROI mapping', () => {
  it('maps map-pixel boxes and areas back to original-frame pixels', () => {
    const roi = resolveRoi({ x: 100, y: 50, width: 512, height: 256 }, 1280, 720);
    // map 256×256: x scale 2, y scale 1
    expect(mapBoxToFrame({ x: 10, y: 20, width: 3, height: 4 }, 256, 256, roi)).toEqual({ x: 120, y: 70, width: 6, height: 4 });
    expect(mapAreaToFrame(5, 256, 256, roi)).toBe(10);
    // Downscaling ROI (map larger than ROI): a 1-pixel box stays at least 1 pixel.
    const small = { x: 0, y: 0, width: 64, height: 64 };
    expect(mapBoxToFrame({ x: 255, y: 255, width: 1, height: 1 }, 256, 256, small)).toEqual({ x: 63, y: 63, width: 1, height: 1 });
    expect(resolveRoi(undefined, 30, 20)).toEqual({ x: 0, y: 0, width: 30, height: 20 });
  });
});

describe('tensors', () => {
  it('fills planar NCHW and interleaved HWC in [0, 1] from RGB bytes', () => {
    const { planar, hwc } = rgbToTensors(new Uint8Array([255, 0, 51, 0, 255, 102]), 2, 1);
    expect([...planar].map((v) => +v.toFixed(3))).toEqual([1, 0, 0, 1, 0.2, 0.4]);
    expect([...hwc].map((v) => +v.toFixed(3))).toEqual([1, 0, 0.2, 0, 1, 0.4]);
    expect([...planarToHwc(planar, 2, 1)]).toEqual([...hwc]);
    expect(() => rgbToTensors(new Uint8Array(5), 2, 1)).toThrow(RangeError);
    expect(firstNonFinite(new Float32Array([0, 1, NaN]))).toBe(2);
    expect(firstNonFinite(new Float32Array([0, -Infinity]))).toBe(1);
    expect(firstNonFinite(new Float32Array([0, 1]))).toBe(-1);
  });
});
