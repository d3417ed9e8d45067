import { describe, expect, test } from 'vitest';
import { cropTile, stitchTiles, tileLayout, tileOrigins, tilesOf, workingSize } from '../../src/preprocess/tiles.js';

describe('tile layout', () => {
  test('the working size keeps the aspect ratio with the short edge given', () => {
    expect(workingSize(1130, 460, 128)).toEqual({ width: 314, height: 128 });
    expect(workingSize(123, 286, 128)).toEqual({ width: 128, height: 298 });
    expect(workingSize(50, 50, 128)).toEqual({ width: 128, height: 128 });
  });

  test('origins step by the stride and the last tile is flush with the far edge', () => {
    expect(tileOrigins(314, 128, 96)).toEqual([0, 96, 186]);
    expect(tileOrigins(128, 128, 96)).toEqual([0]);
    expect(tileOrigins(129, 128, 96)).toEqual([0, 1]);
    expect(tileOrigins(320, 128, 96)).toEqual([0, 96, 192]);
    const l = tileLayout(1130, 460, { shortEdge: 256, overlap: 0.25 }, 128);
    expect(l).toMatchObject({ width: 629, height: 256, tile: 128 });
    expect(l.xs).toEqual([0, 96, 192, 288, 384, 480, 501]);
    expect(l.ys).toEqual([0, 96, 128]);
    expect(tilesOf(l)).toHaveLength(21);
  });

  test('cropping into tiles and stitching gives the image back; overlaps are averaged', () => {
    const layout = tileLayout(100, 40, { shortEdge: 32, overlap: 0.25 }, 32);
    expect(layout).toMatchObject({ width: 80, height: 32, xs: [0, 24, 48], ys: [0] });
    const image = Float32Array.from({ length: 80 * 32 * 3 }, (_, i) => Math.sin(i * 0.37));
    const tiles = tilesOf(layout).map(({ x, y }) => cropTile(image, 80, 3, x, y, 32));
    const back = stitchTiles(tiles, layout, 3);
    for (let i = 0; i < image.length; i++) expect(back[i]).toBeCloseTo(image[i]!, 6);
    // constant tiles 0, 1, 2: x = 30 is covered by tiles 0 and 1, x = 50 by tiles 1 and 2, x = 10 by tile 0 alone
    const flat = [0, 1, 2].map((v) => new Float32Array(32 * 32).fill(v));
    const map = stitchTiles(flat, layout, 1);
    expect(map[10]).toBe(0);
    expect(map[30]).toBe(0.5);
    expect(map[50]).toBe(1.5);
    expect(map[79]).toBe(2);
  });
});
