import type { Frame } from '../capture/frame.js';
import { decodeFrame } from './decode.js';
import { edgeMap } from './edge-map.js';
import type { Roi } from './roi.js';
import { rgbToTensors } from './tensors.js';

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
