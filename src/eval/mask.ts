import sharp from 'sharp';
import { MmaerecError } from '../errors.js';

/**
 * Ground-truth masks: decoded, binarised (≥ 128 of 255 = defect; MVTec masks are 0/255) and resized to the
 * anomaly-map size — the whole frame, because eval runs the inspector without an ROI, so the map covers the
 * whole image stretched to the model input.
 *
 * Resizing rules (`MaskResize`):
 * - 'nearest' (default): each map pixel takes the mask value at its centre, sampled with half-pixel centres
 *   (source = floor((x + 0.5)·W/w)), as PIL's NEAREST and OpenCV's INTER_NEAREST_EXACT do. It keeps thin
 *   defects (cracks one pixel wide) that an area rule would erase when downscaling, and is what anomalib does.
 * - 'area': the exact fraction of each map pixel's footprint covered by defect pixels, thresholded at 0.5.
 *   Unbiased in area, but drops structures thinner than half a map pixel.
 */
export type MaskResize = 'nearest' | 'area';

export interface BinaryMask {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Decodes a mask file to a 0/1 mask at its own size; checks it against the image's size when given. */
export async function readMask(path: string, expect?: { width: number; height: number }): Promise<BinaryMask> {
  let decoded: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    decoded = await sharp(path, { failOn: 'truncated' }).greyscale().raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new MmaerecError('E_DATA', `mask ${path} cannot be decoded (${(err as Error).message.split('\n')[0]}): replace it with a PNG of 0 (normal) and 255 (defect)`, { cause: err });
  }
  const { width, height, channels } = decoded.info;
  if (expect && (width !== expect.width || height !== expect.height)) {
    throw new MmaerecError('E_DATA', `mask ${path} is ${width}×${height} but its image is ${expect.width}×${expect.height}: a mask must have its image's size`);
  }
  const data = new Uint8Array(width * height);
  for (let p = 0; p < data.length; p++) data[p] = decoded.data[p * channels]! >= 128 ? 1 : 0;
  return { data, width, height };
}

/** Image size as decoded (EXIF orientation applied, like the inspector's decode). */
export async function imageSize(path: string): Promise<{ width: number; height: number }> {
  try {
    const meta = await sharp(path).metadata();
    const rotated = (meta.orientation ?? 1) >= 5;
    return rotated ? { width: meta.height!, height: meta.width! } : { width: meta.width!, height: meta.height! };
  } catch (err) {
    throw new MmaerecError('E_DATA', `image ${path} cannot be read (${(err as Error).message.split('\n')[0]}): replace or remove the file`, { cause: err });
  }
}

/** Resizes a 0/1 mask to width × height by the given rule (see MaskResize). */
export function resizeMask(mask: BinaryMask, width: number, height: number, rule: MaskResize = 'nearest'): Uint8Array {
  if (mask.width === width && mask.height === height) return mask.data.slice();
  return rule === 'nearest' ? resizeNearest(mask, width, height) : resizeArea(mask, width, height);
}

function resizeNearest(mask: BinaryMask, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const xs = new Int32Array(width);
  for (let x = 0; x < width; x++) xs[x] = Math.min(mask.width - 1, Math.floor(((x + 0.5) * mask.width) / width));
  for (let y = 0; y < height; y++) {
    const sy = Math.min(mask.height - 1, Math.floor(((y + 0.5) * mask.height) / height));
    const row = sy * mask.width;
    for (let x = 0; x < width; x++) out[y * width + x] = mask.data[row + xs[x]!]!;
  }
  return out;
}

/** Per output cell along one axis: the source indices it overlaps and the overlap lengths (in source pixels). */
function areaWeights(src: number, dst: number): { index: number[]; weight: number[] }[] {
  const scale = src / dst;
  return Array.from({ length: dst }, (_, o) => {
    const a = o * scale;
    const b = (o + 1) * scale;
    const index: number[] = [];
    const weight: number[] = [];
    for (let s = Math.floor(a); s < Math.min(src, Math.ceil(b)); s++) {
      const w = Math.min(b, s + 1) - Math.max(a, s);
      if (w > 0) { index.push(s); weight.push(w); }
    }
    return { index, weight };
  });
}

function resizeArea(mask: BinaryMask, width: number, height: number): Uint8Array {
  const wx = areaWeights(mask.width, width);
  const wy = areaWeights(mask.height, height);
  // Horizontal pass: per source row, the covered length of each output column.
  const rows = new Float64Array(mask.height * width);
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < width; x++) {
      const { index, weight } = wx[x]!;
      let sum = 0;
      for (let k = 0; k < index.length; k++) sum += weight[k]! * mask.data[y * mask.width + index[k]!]!;
      rows[y * width + x] = sum;
    }
  }
  const cellArea = (mask.width / width) * (mask.height / height);
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const { index, weight } = wy[y]!;
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let k = 0; k < index.length; k++) sum += weight[k]! * rows[index[k]! * width + x]!;
      // 1e-9: a cell exactly half covered counts as defect despite rounding in the weights
      out[y * width + x] = sum / cellArea >= 0.5 - 1e-9 ? 1 : 0;
    }
  }
  return out;
}
