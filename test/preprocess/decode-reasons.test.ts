import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/preprocess/decode.js';

// An undecodable frame's message gives the decoder's real reason, never "Unknown error" or an empty one
// (issue 15, item 12). libvips keeps one error buffer for the whole process: when frames decode side by side,
// one failing decode can find the buffer already cleared by another, and sharp then says "Unknown error".

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Deterministic mutations (a seeded LCG) of PNG and JPEG encodings of the example frames. */
async function mutatedFrames(count: number): Promise<{ id: string; bytes: Uint8Array }[]> {
  const seeds: Buffer[] = [];
  for (const name of ['good-1.png', 'crack-1.png', 'stain-1.png']) {
    const png = await readFile(path.join(ROOT, 'examples/frames', name));
    seeds.push(png, await sharp(png).jpeg({ quality: 90 }).toBuffer());
  }
  let s = 7;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) & 0x7fffffff), s / 0x7fffffff);
  return Array.from({ length: count }, (_, k) => {
    const b = Buffer.from(seeds[k % seeds.length]!);
    const n = 1 + Math.floor(rnd() * 8);
    for (let m = 0; m < n; m++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    return { id: `fuzz-${k}`, bytes: new Uint8Array(b) };
  });
}

describe('decode failure reasons', () => {
  it('frames decoded side by side: every failure names a reason, none says "Unknown error"', async () => {
    const frames = await mutatedFrames(600);
    const outcomes = await Promise.all(frames.map((f) => decodeFrame({ id: f.id, capturedAt: 0, image: f.bytes }, 32, 32).then(() => 'ok', (err: Error & { code?: string }) => err)));
    const failures = outcomes.filter((o): o is Error & { code?: string } => o !== 'ok');
    expect(failures.length).toBeGreaterThan(100); // the mutations do break frames
    for (const err of failures) {
      expect(err.code).toBe('E_INPUT');
      const reason = /^frame fuzz-\d+: cannot decode the image \((.*)\): send a complete PNG, JPEG, TIFF or WebP file, or raw RGB$/.exec(err.message)?.[1];
      expect(reason, err.message).toBeDefined();
      expect(reason, err.message).not.toMatch(/Unknown error|^$|:$/);
      expect(err.message).not.toMatch(/[\n\r]/);
    }
  }, 60_000);
});
