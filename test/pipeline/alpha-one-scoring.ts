/**
 * Shared by alpha-one-scoring*.test.ts (issue 17 item 4): an Inspector over a bundle whose feature fusion has
 * α = 1 skips the image-space map (MSGMS + CIELAB), and its every observable result — map, image score, regions,
 * heatmap — must equal the full computation spelled out here, step by step as it ran before the skip: the fused
 * map A of both images, A' = (1 − α)·A/s_A + α·up(D)/s_D, A'' = (A' − up(μ)) / up(σ) with the statistics resized
 * on every frame, then the aggregation over A''.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, vi } from 'vitest';
import type { RawImage } from '../../src/capture/frame.js';
import { renderHeatmap } from '../../src/decide/heatmap.js';
import { regionsToFrame } from '../../src/decide/map-regions.js';
import { regions } from '../../src/decide/regions.js';
import type { InferenceBackend, InferenceInputs, InferenceOutputs } from '../../src/infer/backend.js';
import { createBundle, writeBundle, type LoadedBundle } from '../../src/model/bundle.js';
import { presetConfig } from '../../src/model/config.js';
import type { FeatureFusion, PositionNorm, ScoringOptions } from '../../src/model/manifest.js';
import { Inspector } from '../../src/pipeline/inspector.js';
import { planarToHwc } from '../../src/preprocess/tensors.js';
import { cropTile, stitchTiles, tileLayout, tilesOf, type TileLayout, type TilingSpec } from '../../src/preprocess/tiles.js';
import { resizeBilinear } from '../../src/score/feature-fusion.js';
import { FusedScorer, fusedScore } from '../../src/score/fused.js';
import { normGrid } from '../../src/score/position-norm.js';
import { seededRandom } from '../../src/util/random.js';

export const SIZE = 64;
const GRID = SIZE / 8;
const config = presetConfig('lite', {
  inputSize: SIZE, backbone: { widthDivisor: 8 }, levelChannels: [8, 8, 16, 32], headChannels: 8, memory: { levels: [] }, featureBank: { items: 32 },
});

/** A back end that returns, for each frame, a reconstruction and a distance map derived from its input alone. */
class DerivedOutputs implements InferenceBackend {
  readonly name = 'derived';
  readonly width = SIZE;
  readonly height = SIZE;
  async run({ image }: InferenceInputs): Promise<InferenceOutputs> {
    const recon = image.map((v, i) => (i % 13 === 0 ? 1 - v : v * 0.9 + 0.05));
    const featureDistance = Float32Array.from({ length: GRID * GRID }, (_, i) => 0.5 + image[(i * 37) % image.length]! + ((i * 7) % 5) * 0.3);
    return { recon, featureDistance };
  }
  async dispose(): Promise<void> {}
}

function statsFor(seed: number, width: number, height: number): PositionNorm {
  const grid = normGrid(width, height);
  const r = seededRandom(seed);
  const cells = grid.width * grid.height;
  return { grid, mean: Array.from({ length: cells }, () => 0.2 + r()), std: Array.from({ length: cells }, () => 0.1 + r()), images: 10 };
}

/** Frames of width × height with texture and a bright block, so that maps vary and regions form. */
export function frames(n: number, width = SIZE, height = SIZE): RawImage[] {
  const r = seededRandom(11);
  return Array.from({ length: n }, (_, k) => {
    const data = new Uint8Array(width * height * 3);
    for (let p = 0; p < width * height; p++) {
      const [x, y] = [p % width, Math.floor(p / width)];
      const hot = x >= 10 + 5 * k && x < 22 + 5 * k && y >= 30 && y < 40;
      for (let c = 0; c < 3; c++) data[p * 3 + c] = hot ? 250 : Math.round(40 + 60 * r() + (x % 64));
    }
    return { data, width, height, channels: 3 };
  });
}

/** Frames of this size are inspected whole (raw at the model size) or, with `tiling`, cut into tiles. */
export interface Case {
  scoring: Partial<ScoringOptions>;
  tiling?: TilingSpec;
  frameWidth?: number;
  frameHeight?: number;
}

async function alphaOneBundle(dir: string, c: Case, mapWidth: number, mapHeight: number): Promise<LoadedBundle> {
  const featureFusion: FeatureFusion = { alpha: 1, mapScale: 0.7, featureScale: 1.3, grid: { width: GRID, height: GRID } };
  return writeBundle(dir, await createBundle({
    config, seed: 2, scoring: c.scoring, featureFusion, positionNorm: statsFor(5, mapWidth, mapHeight), thresholds: { image: 1, pixel: 1.2, source: 'test' },
    ...(c.tiling ? { tiling: c.tiling } : {}),
  }));
}

const toPlanar = (hwc: Float32Array): Float32Array => Float32Array.from({ length: 3 * SIZE * SIZE }, (_, i) => hwc[(i % (SIZE * SIZE)) * 3 + Math.floor(i / (SIZE * SIZE))]!);

/**
 * The map, score and reconstruction as the full computation had them, from the frame's preprocessed input (the
 * working image when tiled): per tile the image-space map and the fusion, the tiles stitched, then normalised.
 */
async function fullComputation(bundle: LoadedBundle, input: Float32Array, layout: TileLayout): Promise<{ map: Float32Array; score: number; recon: Float32Array }> {
  const m = bundle.manifest;
  const fusion = m.featureFusion!;
  const norm = m.positionNorm!;
  const tileMaps: Float32Array[] = [];
  const tileRecons: Float32Array[] = [];
  for (const { x, y } of tilesOf(layout)) {
    const tileInput = cropTile(input, layout.width, 3, x, y, SIZE);
    const out = await new DerivedOutputs().run({ image: toPlanar(tileInput), edge: new Float32Array(SIZE * SIZE) });
    const recon = planarToHwc(out.recon, SIZE, SIZE);
    const image = await fusedScore(tileInput, recon, SIZE, SIZE, m.scoring);
    const up = resizeBilinear(out.featureDistance!, GRID, GRID, SIZE, SIZE);
    tileMaps.push(Float32Array.from(image.map, (a, i) => ((1 - fusion.alpha) / fusion.mapScale) * a + (fusion.alpha / fusion.featureScale) * up[i]!));
    tileRecons.push(recon);
  }
  const { width, height } = layout;
  const fused = stitchTiles(tileMaps, layout, 1);
  const mean = resizeBilinear(Float32Array.from(norm.mean), norm.grid.width, norm.grid.height, width, height);
  const std = resizeBilinear(Float32Array.from(norm.std), norm.grid.width, norm.grid.height, width, height);
  const map = Float32Array.from(fused, (v, i) => (v - mean[i]!) / std[i]!);
  return { map, score: aggregateSpelledOut(map, width, height, m.scoring.aggregation), recon: stitchTiles(tileRecons, layout, 3) };
}

/** max, or the mean of the top fraction, over the map inside the margin: sorted descending, summed in that order. */
function aggregateSpelledOut(map: Float32Array, width: number, height: number, aggregation: ScoringOptions['aggregation']): number {
  const mx = Math.floor((aggregation.margin ?? 0) * width);
  const my = Math.floor((aggregation.margin ?? 0) * height);
  const kept: number[] = [];
  for (let y = my; y < height - my; y++) for (let x = mx; x < width - mx; x++) kept.push(map[y * width + x]!);
  if (aggregation.kind === 'max') return Math.max(...kept);
  kept.sort((p, q) => q - p);
  const k = Math.max(1, Math.ceil(aggregation.fraction * kept.length));
  return kept.slice(0, k).reduce((a, v) => a + v, 0) / k;
}

const worstDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
};

/**
 * Inspects `n` frames (several in flight, twice over: the cached statistics serve every frame) and checks each
 * against the full computation. Returns how many regions the frames had, so callers can see regions were compared.
 */
export async function expectSameAsFullComputation(c: Case, n = 4): Promise<number> {
  const [frameWidth, frameHeight] = [c.frameWidth ?? SIZE, c.frameHeight ?? SIZE];
  const layout = c.tiling ? tileLayout(frameWidth, frameHeight, c.tiling, SIZE) : { width: SIZE, height: SIZE, tile: SIZE, xs: [0], ys: [0] };
  const whole = { x: 0, y: 0, width: frameWidth, height: frameHeight };
  const dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-alpha1-'));
  try {
    const bundle = await alphaOneBundle(path.join(dir, 'b'), c, layout.width, layout.height);
    const heatmap = { mode: 'all' as const, format: 'png' as const };
    const inspector = await Inspector.create(bundle, { inferenceBackend: new DerivedOutputs(), heatmap });
    let regionCount = 0;
    try {
      const images = [...frames(n, frameWidth, frameHeight), ...frames(n, frameWidth, frameHeight)];
      const imageMaps = vi.spyOn(FusedScorer.prototype, 'score');
      const analyses = await Promise.all(images.map((image, i) => inspector.analyze({ id: `f${i}`, capturedAt: 0, image })));
      expect(imageMaps).not.toHaveBeenCalled(); // the skip was taken: no image-space map was computed
      imageMaps.mockRestore();
      for (const [i, a] of analyses.entries()) {
        const frame = { id: `f${i}`, capturedAt: 0, image: images[i]! };
        const full = await fullComputation(bundle, a.input, layout);
        expect([a.mapWidth, a.mapHeight]).toEqual([layout.width, layout.height]);
        expect(worstDifference(a.map, full.map)).toBeLessThanOrEqual(1e-6);
        expect(worstDifference(a.recon, full.recon)).toBe(0);
        expect(Math.abs(a.result.score - full.score)).toBeLessThanOrEqual(1e-6);
        const fullRegions = regionsToFrame(await regions(full.map, layout.width, layout.height, bundle.manifest.thresholds.pixel), layout.width, layout.height, whole);
        expect(a.result.regions.map((r) => [r.x, r.y, r.width, r.height, r.area])).toEqual(fullRegions.map((r) => [r.x, r.y, r.width, r.height, r.area]));
        expect(worstDifference(a.result.regions.flatMap((r) => [r.maxScore, r.meanScore]), fullRegions.flatMap((r) => [r.maxScore, r.meanScore]))).toBeLessThanOrEqual(1e-6);
        regionCount += fullRegions.length;
        const fullHeatmap = await renderHeatmap(frame, full.map, layout.width, layout.height, whole, bundle.manifest.thresholds.pixel, heatmap);
        expect(Buffer.from(a.result.heatmap!.data).equals(Buffer.from(fullHeatmap.data))).toBe(true);
      }
    } finally {
      await inspector.close();
    }
    return regionCount;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
