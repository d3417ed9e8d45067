import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Frame } from '../../capture/frame.js';
import type { PreparedInputs } from '../../engine/calibration.js';
import { listCalibrationImages } from '../../engine/calibration.js';
import { prepareFrame, prepareTiledFrame } from '../../preprocess/preprocess.js';
import type { TilingSpec } from '../../preprocess/tiles.js';

/** The network inputs of the calibration images, exactly as inspection feeds them. */
export interface CalibrationSamples {
  images: string[];
  /** Whole frames, or for a tiled bundle evenly spread tiles of every frame (about `limit` in all). */
  samples: PreparedInputs[];
  /** sha256 over each image's file name and bytes, in order: which images calibrated the model. */
  sha256: string;
}

/**
 * Good images → the inspection path's preprocessing (prepareFrame: decode, resize, edge map; prepareTiledFrame
 * for a tiled bundle) → the `image` and `edge` tensors — the same path TensorRT's INT8 calibration takes
 * (engine/calibration.ts), so that both calibrate on what the network will see. An image that does not decode
 * stops with E_INPUT naming the file.
 */
export async function calibrationSamples(dir: string, limit: number, input: { width: number; height: number; tiling?: TilingSpec | undefined }): Promise<CalibrationSamples> {
  const images = await listCalibrationImages(dir, limit);
  const hash = createHash('sha256');
  const samples: PreparedInputs[] = [];
  for (const path of images) {
    const bytes = await readFile(path);
    hash.update(basename(path)).update(bytes);
    const frame: Frame = { id: basename(path), capturedAt: Date.now(), image: bytes, origin: path };
    if (input.tiling) {
      // At most `limit` samples in all: the same number of evenly spread tiles from every image.
      const { tiles } = await prepareTiledFrame(frame, input.width, input.tiling);
      const take = Math.min(tiles.length, Math.max(1, Math.ceil(limit / images.length)));
      for (let i = 0; i < take; i++) {
        const t = tiles[Math.floor((i * tiles.length) / take)]!;
        samples.push({ image: t.image, edge: t.edge });
      }
    } else {
      const p = await prepareFrame(frame, input.width, input.height);
      samples.push({ image: p.image, edge: p.edge });
    }
  }
  return { images, samples, sha256: hash.digest('hex') };
}
