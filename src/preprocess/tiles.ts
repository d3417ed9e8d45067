/**
 * Tiled inspection (docs/architecture.md, "Tiles"): a frame whose ROI is not square, or whose defects are small,
 * is not stretched to the model input. The ROI is resized keeping its aspect ratio so that its short edge is
 * `shortEdge` working pixels, and covered by overlapping model-size tiles (anomalib's tiler: a tile grid with a
 * stride, the last tile flush with the far edge). Each tile is reconstructed and scored on its own, and the
 * tiles' maps are averaged where they overlap into one map over the whole working image. Training samples
 * tiles of the same scale, so the network sees parts at the size the line shows them.
 */

/** How a bundle's frames are tiled (manifest `input.tiling`). */
export interface TilingSpec {
  /** Working pixels of the ROI's short edge after the aspect-preserving resize (≥ the model input). */
  shortEdge: number;
  /** Fraction of a tile shared with its neighbour (0 ≤ overlap < 1; stride = tile · (1 − overlap)). */
  overlap: number;
}

export interface TileLayout {
  /** The working image: the ROI resized keeping its aspect ratio. */
  width: number;
  height: number;
  /** Tile side (the model input). */
  tile: number;
  /** Tile origins along x and y; every (x, y) pair is one tile. */
  xs: number[];
  ys: number[];
}

/** The working size of an ROI: aspect kept, short edge = shortEdge (rounded; never below the tile). */
export function workingSize(roiWidth: number, roiHeight: number, shortEdge: number): { width: number; height: number } {
  const scale = shortEdge / Math.min(roiWidth, roiHeight);
  return {
    width: Math.max(shortEdge, Math.round(roiWidth * scale)),
    height: Math.max(shortEdge, Math.round(roiHeight * scale)),
  };
}

/** Origins 0, stride, 2·stride, … with the last tile flush with the end (no origin repeated). */
export function tileOrigins(length: number, tile: number, stride: number): number[] {
  if (length <= tile) return [0];
  const out: number[] = [];
  for (let x = 0; x + tile < length; x += stride) out.push(x);
  out.push(length - tile);
  return out;
}

export function tileLayout(roiWidth: number, roiHeight: number, spec: TilingSpec, tile: number): TileLayout {
  const { width, height } = workingSize(roiWidth, roiHeight, spec.shortEdge);
  const stride = Math.max(1, Math.round(tile * (1 - spec.overlap)));
  return { width, height, tile, xs: tileOrigins(width, tile, stride), ys: tileOrigins(height, tile, stride) };
}

/** The tiles of a layout in raster order, as { x, y } origins. */
export function tilesOf(layout: TileLayout): { x: number; y: number }[] {
  return layout.ys.flatMap((y) => layout.xs.map((x) => ({ x, y })));
}

/** A tile × tile crop of an interleaved image with `channels` channels. */
export function cropTile(image: Float32Array, width: number, channels: number, x: number, y: number, tile: number): Float32Array {
  const out = new Float32Array(tile * tile * channels);
  const row = tile * channels;
  for (let r = 0; r < tile; r++) {
    const from = ((y + r) * width + x) * channels;
    out.set(image.subarray(from, from + row), r * row);
  }
  return out;
}

/**
 * Averages per-tile interleaved values (maps: 1 channel; images: 3) into one image over the layout: each
 * working pixel is the mean of the tiles that cover it.
 */
export function stitchTiles(tiles: Float32Array[], layout: TileLayout, channels: number): Float32Array {
  const { width, height, tile } = layout;
  const sum = new Float32Array(width * height * channels);
  const count = new Uint16Array(width * height);
  tilesOf(layout).forEach(({ x, y }, i) => {
    const t = tiles[i]!;
    for (let r = 0; r < tile; r++) {
      for (let c = 0; c < tile; c++) {
        const p = (y + r) * width + x + c;
        count[p] = count[p]! + 1;
        const src = (r * tile + c) * channels;
        for (let k = 0; k < channels; k++) sum[p * channels + k] = sum[p * channels + k]! + t[src + k]!;
      }
    }
  });
  for (let p = 0; p < width * height; p++) {
    const inv = 1 / count[p]!;
    for (let k = 0; k < channels; k++) sum[p * channels + k] = sum[p * channels + k]! * inv;
  }
  return sum;
}
