/** The default recipe's tiling choice from the training images' shapes (src/train/auto-tiling.ts). */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autoTiling } from '../../src/train/auto-tiling.js';

let dir: string;
const png = async (name: string, width: number, height: number): Promise<string> => {
  const path = join(dir, name);
  await sharp(Buffer.alloc(width * height * 3, 90), { raw: { width, height, channels: 3 } }).png().toFile(path);
  return path;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-autotile-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('autoTiling', () => {
  it('tiles frames far from square at twice the model input, keeps near-square ones stretched', async () => {
    const wide = [await png('w1.png', 1130, 460), await png('w2.png', 1130, 460), await png('w3.png', 600, 600)];
    expect(await autoTiling(wide, 128)).toEqual({ tiling: { shortEdge: 256, overlap: 0.25 }, aspect: 1130 / 460, sampled: 3 });
    const square = [await png('s1.png', 300, 240), await png('s2.png', 400, 400)];
    expect(await autoTiling(square, 128)).toEqual({ aspect: 1.25, sampled: 2 }); // upper median of 1.25 and 1
  });

  it('never upsamples: a short edge below twice the input is kept (but at least the input)', async () => {
    const narrow = [await png('n1.png', 400, 150)];
    expect((await autoTiling(narrow, 128)).tiling).toEqual({ shortEdge: 150, overlap: 0.25 });
    const tiny = [await png('t1.png', 200, 100)];
    expect((await autoTiling(tiny, 128)).tiling).toEqual({ shortEdge: 128, overlap: 0.25 });
  });

  it('an unreadable file does not decide; none readable means stretch', async () => {
    const bad = join(dir, 'bad.png');
    await writeFile(bad, 'not an image');
    expect(await autoTiling([bad], 128)).toEqual({ aspect: 1, sampled: 0 });
    expect((await autoTiling([bad, await png('w4.png', 900, 300)], 128)).tiling).toEqual({ shortEdge: 256, overlap: 0.25 });
  });
});
