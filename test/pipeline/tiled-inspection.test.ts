import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBundle, loadBundle, writeBundle, type LoadedBundle } from '../../src/model/bundle.js';
import { presetConfig } from '../../src/model/config.js';
import { Inspector } from '../../src/pipeline/inspector.js';
import { cropTile, stitchTiles, tilesOf, tileLayout } from '../../src/preprocess/tiles.js';
import { fusedScore } from '../../src/score/fused.js';
import { FakeBackend } from './helpers.js';

let dir: string;
let bundle: LoadedBundle;
const config = presetConfig('lite', { inputSize: 32, backbone: { widthDivisor: 4 }, levelChannels: [16, 16, 32, 32], headChannels: 8 });
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-tiled-'));
  bundle = await writeBundle(path.join(dir, 'bundle'), await createBundle({
    config, seed: 1, name: 'tiled', thresholds: { image: 0.3, pixel: 0.2, source: 'test' }, tiling: { shortEdge: 32, overlap: 0.25 },
  }));
});
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

/** A 100×40 raw frame with a texture (so the scorer has structure to compare). */
function rawFrame() {
  const data = new Uint8Array(100 * 40 * 3);
  for (let i = 0; i < data.length; i++) data[i] = 60 + ((i * 37) % 97) + (Math.floor(i / 300) % 2) * 40;
  return { id: 'wide', capturedAt: 1, image: { width: 100, height: 40, channels: 3 as const, data } };
}

/** Perfect reconstructions, except a dark 10×10 block in the second tile (call 2). */
const blockInTile2 = (image: Float32Array, call: number): Float32Array => {
  const out = image.slice();
  if (call !== 2) return out;
  const n = 32 * 32;
  for (let y = 10; y < 20; y++) for (let x = 10; x < 20; x++) for (let c = 0; c < 3; c++) out[c * n + y * 32 + x] = 0;
  return out;
};

describe('tiled inspection (manifest input.tiling)', () => {
  it('keeps the aspect ratio, infers each tile, stitches the maps, and reports regions in frame pixels', async () => {
    const backend = new FakeBackend(32, 32, blockInTile2);
    const inspector = await Inspector.create(bundle, { inferenceBackend: backend });
    try {
      const a = await inspector.analyze(rawFrame());
      // 100×40 → 80×32 working image (short edge 32), tiles at x = 0, 24, 48
      expect([a.mapWidth, a.mapHeight]).toEqual([80, 32]);
      expect(backend.runs).toBe(3);
      // the map is the average of each tile's own fused map
      const layout = tileLayout(100, 40, { shortEdge: 32, overlap: 0.25 }, 32);
      const maps = [];
      for (const [i, { x, y }] of tilesOf(layout).entries()) {
        const input = cropTile(a.input, 80, 3, x, y, 32);
        const planar = new Float32Array(32 * 32 * 3);
        for (let p = 0; p < 32 * 32; p++) for (let c = 0; c < 3; c++) planar[c * 1024 + p] = input[p * 3 + c]!;
        const reconPlanar = blockInTile2(planar, i + 1);
        const recon = new Float32Array(32 * 32 * 3);
        for (let p = 0; p < 32 * 32; p++) for (let c = 0; c < 3; c++) recon[p * 3 + c] = reconPlanar[c * 1024 + p]!;
        maps.push((await fusedScore(input, recon, 32, 32, bundle.manifest.scoring)).map);
      }
      const expected = stitchTiles(maps, layout, 1);
      let maxDiff = 0;
      for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(expected[i]! - a.map[i]!));
      expect(maxDiff).toBeLessThan(1e-6);
      expect(a.result.score).toBeCloseTo(Math.max(...expected), 6);
      expect(a.result.verdict).toBe('defect');
      // the block sits at working x 34–43, y 10–19: frame x 42.5–55, y 12.5–25 (×1.25)
      const worst = a.result.regions[0]!;
      expect(worst.x).toBeLessThanOrEqual(43);
      expect(worst.x + worst.width).toBeGreaterThanOrEqual(55);
      expect(worst.y).toBeLessThanOrEqual(13);
      expect(worst.y + worst.height).toBeGreaterThanOrEqual(25);
      for (const r of a.result.regions) {
        expect(r.x + r.width).toBeLessThanOrEqual(100);
        expect(r.y + r.height).toBeLessThanOrEqual(40);
      }
    } finally {
      await inspector.close();
    }
  });

  it('the real ONNX Runtime back end runs a tiled bundle', async () => {
    const inspector = await Inspector.create(bundle.dir, { threads: 1 });
    try {
      const a = await inspector.analyze(rawFrame());
      expect([a.mapWidth, a.mapHeight]).toEqual([80, 32]);
      expect(Number.isFinite(a.result.score)).toBe(true);
    } finally {
      await inspector.close();
    }
  });

  it('a manifest whose tiles cannot fit is refused when the bundle loads', async () => {
    const bad = path.join(dir, 'bad');
    await expect(writeBundle(bad, await createBundle({ config, tiling: { shortEdge: 16, overlap: 0 } }))).rejects.toMatchObject({ code: 'E_BUNDLE' });
    await expect(loadBundle(bad)).rejects.toThrow(/input\.tiling\.shortEdge/);
  });
});
