import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HEATMAP_MAX_EDGE, renderHeatmap } from '../../src/decide/heatmap.js';
import { corruptHuffmanJpeg } from '../helpers/corrupt-jpeg.js';

// Heatmaps are drawn at a bounded size (issue 15, item 2) and decode their base image with the same policy
// as inspection (item 1).

const grey = (w: number, h: number): Promise<Uint8Array> =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: 128, g: 128, b: 128 } } }).png({ compressionLevel: 1 }).toBuffer().then((b) => new Uint8Array(b));
const hot = new Float32Array(4 * 4).fill(0.75); // orange-red everywhere in the ROI (scale [0, 1])

describe('heatmap size', () => {
  it('draws a large frame at the default longest edge of 1024, aspect kept, the overlay scaled with the ROI', async () => {
    expect(DEFAULT_HEATMAP_MAX_EDGE).toBe(1024);
    const frame = { id: 'wide', capturedAt: 0, image: await grey(4096, 2048) };
    const h = await renderHeatmap(frame, hot, 4, 4, { x: 2048, y: 0, width: 2048, height: 2048 }, 0.5);
    expect(h).toMatchObject({ format: 'png', width: 1024, height: 512 });
    const { data, info } = await sharp(h.data).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([1024, 512, 3]);
    const at = (x: number, y: number): number[] => [...data.subarray((y * 1024 + x) * 3, (y * 1024 + x) * 3 + 3)];
    expect(at(511, 256)).toEqual([128, 128, 128]); // left of the ROI: untouched
    expect(at(512, 256)[0]).toBeGreaterThan(128); // the ROI starts at x = 2048 / 4
    expect(at(1023, 511)[2]).toBeLessThan(128);
  });

  it('takes maxEdge from the options, and leaves frames already within it at their size', async () => {
    const frame = { id: 'tall', capturedAt: 0, image: await grey(600, 1200) };
    expect(await renderHeatmap(frame, hot, 4, 4, { x: 0, y: 0, width: 600, height: 1200 }, 0.5, { maxEdge: 300 })).toMatchObject({ width: 150, height: 300 });
    expect(await renderHeatmap(frame, hot, 4, 4, { x: 0, y: 0, width: 600, height: 1200 }, 0.5, { maxEdge: 4096, format: 'jpeg' })).toMatchObject({ format: 'jpeg', width: 600, height: 1200 });
    const raw = { id: 'raw', capturedAt: 0, image: { width: 2000, height: 1000, channels: 3 as const, data: new Uint8Array(2000 * 1000 * 3).fill(90) } };
    expect(await renderHeatmap(raw, hot, 4, 4, { x: 0, y: 0, width: 10, height: 10 }, 0.5, { maxEdge: 500 })).toMatchObject({ width: 500, height: 250 });
    await expect(renderHeatmap(frame, hot, 4, 4, { x: 0, y: 0, width: 600, height: 1200 }, 0.5, { maxEdge: 0 })).rejects.toThrow(RangeError);
  });

  it('a 8192² frame: the heatmap is 1024², in well under the time of a full-size one', async () => {
    const frame = { id: 'big', capturedAt: 0, image: await grey(8192, 8192) };
    const t0 = performance.now();
    const h = await renderHeatmap(frame, hot, 4, 4, { x: 0, y: 0, width: 8192, height: 8192 }, 0.5);
    const ms = performance.now() - t0;
    expect([h.width, h.height]).toEqual([1024, 1024]);
    expect(h.data.byteLength).toBeLessThan(4 * 1024 * 1024);
    expect(ms).toBeLessThan(5000); // at full size this took 4.5 s and ~300 MB here (a 256 MiB RGBA overlay); bounded: ~0.3 s
  }, 30_000);
});

describe('heatmap decode policy', () => {
  it('draws a JPEG with a recoverable corrupt Huffman code, as inspection decodes it', async () => {
    const { bytes, strictError } = await corruptHuffmanJpeg();
    expect(strictError).toMatch(/bad Huffman code/); // precondition: sharp's default policy refuses these bytes
    const h = await renderHeatmap({ id: 'huff.jpg', capturedAt: 0, image: bytes }, hot, 4, 4, { x: 0, y: 0, width: 64, height: 64 }, 0.5);
    expect(h).toMatchObject({ format: 'png', width: 64, height: 64 });
  });

  it('bytes that do not decode: E_INPUT naming the frame, one line', async () => {
    await expect(renderHeatmap({ id: 'junk.png', capturedAt: 0, image: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]) }, hot, 4, 4, { x: 0, y: 0, width: 4, height: 4 }, 0.5))
      .rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/^frame junk\.png: cannot decode the image \([^\n]+\): send a complete PNG/) });
  });
});
