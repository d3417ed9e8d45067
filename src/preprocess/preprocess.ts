import type { Frame } from '../capture/frame.js';
import { decodeFrame, decodeFrameTo } from './decode.js';
import { edgeMap } from './edge-map.js';
import type { Roi } from './roi.js';
import { hwcToPlanar, rgbToTensors } from './tensors.js';
import { cropTile, tileLayout, tilesOf, type TileLayout, type TilingSpec } from './tiles.js';

/** A frame ready for the back end, plus what scoring and region mapping need. */
export interface PreparedFrame {
  width: number;
  height: number;
  frameWidth: number;
  frameHeight: number;
  roi: Roi;
  /** 1×3×H×W RGB in [0, 1] for the back end. */
  image: Float32Array;
  /** H×W×3 RGB in [0, 1] for scoring. */
  hwc: Float32Array;
  /** 1×1×H×W morphological gradient of the grayscale image, in [0, 1]. */
  edge: Float32Array;
  decodeMs: number;
  preprocessMs: number;
}

/**
 * decode + ROI + resize (sharp), then float tensors and the edge map (native core). The edge map is
 * computed from the float image — as training computes it from its float tensors — so both see the same
 * grayscale values before dilation and erosion.
 */
export async function prepareFrame(frame: Frame, width: number, height: number, roi?: Roi): Promise<PreparedFrame> {
  const t0 = performance.now();
  const decoded = await decodeFrame(frame, width, height, roi);
  const t1 = performance.now();
  const { planar, hwc } = rgbToTensors(decoded.rgb, width, height);
  const edge = (await edgeMap(hwc, width, height, 3)) as Float32Array;
  const t2 = performance.now();
  return {
    width, height,
    frameWidth: decoded.frameWidth, frameHeight: decoded.frameHeight, roi: decoded.roi,
    image: planar, hwc, edge,
    decodeMs: t1 - t0, preprocessMs: t2 - t1,
  };
}

/** One tile of a tiled frame, ready for the back end. */
export interface PreparedTile {
  x: number;
  y: number;
  /** 1×3×T×T planar RGB, T×T×3 interleaved RGB and the 1×1×T×T edge map of this tile alone. */
  image: Float32Array;
  hwc: Float32Array;
  edge: Float32Array;
}

/** A frame cut into model-size tiles (preprocess/tiles.ts): the working image and its tiles. */
export interface PreparedTiledFrame {
  layout: TileLayout;
  frameWidth: number;
  frameHeight: number;
  roi: Roi;
  /** The whole working image, H×W×3 RGB in [0, 1] (the ROI resized keeping its aspect ratio). */
  hwc: Float32Array;
  tiles: PreparedTile[];
  decodeMs: number;
  preprocessMs: number;
}

/**
 * decode + ROI + aspect-preserving resize to the working size (one libvips pipeline, as prepareFrame), then the
 * tiles. Each tile's edge map is computed from the tile alone, as training computes it from its tile crops.
 */
export async function prepareTiledFrame(frame: Frame, tile: number, spec: TilingSpec, roi?: Roi): Promise<PreparedTiledFrame> {
  const t0 = performance.now();
  let layout: TileLayout | undefined;
  const decoded = await decodeFrameTo(frame, (w, h) => (layout = tileLayout(w, h, spec, tile)), roi);
  const t1 = performance.now();
  const { width, height } = layout!;
  const { hwc } = rgbToTensors(decoded.rgb, width, height);
  const tiles: PreparedTile[] = [];
  for (const { x, y } of tilesOf(layout!)) {
    const crop = cropTile(hwc, width, 3, x, y, tile);
    tiles.push({ x, y, image: hwcToPlanar(crop, tile, tile), hwc: crop, edge: (await edgeMap(crop, tile, tile, 3)) as Float32Array });
  }
  const t2 = performance.now();
  return { layout: layout!, frameWidth: decoded.frameWidth, frameHeight: decoded.frameHeight, roi: decoded.roi, hwc, tiles, decodeMs: t1 - t0, preprocessMs: t2 - t1 };
}
