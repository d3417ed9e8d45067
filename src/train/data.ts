/**
 * Training images: every png/jpg/bmp/tiff under a folder tree, decoded and resized with sharp to the model's
 * square input (grayscale promoted to RGB, alpha dropped), kept as uint8 HWC to hold thousands in memory.
 * The file list is sorted, so the split and the data order depend only on the seed.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, extname } from 'node:path';
import sharp from 'sharp';
import { MmaerecError } from '../errors.js';
import { MODEL_RESIZE } from '../preprocess/decode.js';
import { workingSize, type TilingSpec } from '../preprocess/tiles.js';
import { Rng } from './rng.js';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff'];

export interface ImageSet {
  /** Square side of every image, or with `dims` the side of the tiles cut from them (the model input). */
  size: number;
  /** Paths relative to the data folder, in load order. */
  files: string[];
  /** One uint8 HWC RGB buffer per file (size·size·3, or the working size in `dims`). */
  pixels: Uint8Array[];
  /** Tiled training: each image's working size (aspect kept, short edge = tiling.shortEdge). */
  dims?: { width: number; height: number }[];
}

export interface Dataset {
  root: string;
  train: ImageSet;
  validation: ImageSet;
  /** sha256 over the sorted relative paths and file contents: identifies the data a bundle was trained on. */
  digest: string;
}

export async function listImages(root: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (err) {
    throw new MmaerecError('E_DATA', `cannot read data folder ${root} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): pass --data a folder of good images`);
  }
  return entries
    .filter((e) => e.isFile() && IMAGE_EXTENSIONS.includes(extname(e.name).toLowerCase()))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Decodes one image to size×size RGB uint8, resized exactly as the inspection path resizes frames. */
export async function decodeImage(path: string, size: number): Promise<Uint8Array> {
  return (await decodeImageTo(path, () => ({ width: size, height: size }))).rgb;
}

/**
 * Decodes one image to the size `sizeFor` picks from its own (oriented) size — tiled training keeps the aspect
 * ratio as tiled inspection does (preprocess/tiles.ts workingSize) — with the inspection path's resize.
 */
export async function decodeImageTo(path: string, sizeFor: (width: number, height: number) => { width: number; height: number }): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  try {
    const image = sharp(path, { failOn: 'truncated' }).autoOrient();
    const meta = await image.metadata();
    const rotated = (meta.orientation ?? 1) >= 5;
    const { width, height } = sizeFor(rotated ? meta.height! : meta.width!, rotated ? meta.width! : meta.height!);
    const { data, info } = await image
      .resize(width, height, MODEL_RESIZE)
      .removeAlpha()
      .toColourspace('srgb')
      .raw().toBuffer({ resolveWithObject: true });
    if (info.channels === 3) return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = data[i * info.channels]!;
    return { rgb, width, height };
  } catch (err) {
    throw new MmaerecError('E_DATA', `cannot decode training image ${path} (${(err as Error).message.split('\n')[0]}): remove or replace that file`);
  }
}

/** Runs `fn` over items with at most `limit` in flight, keeping order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface LoadOptions {
  size: number;
  /** Fraction of the images held out for validation/threshold calibration (at least 1 when ≥ 2 images). */
  validationFraction: number;
  seed: number;
  /** Use only the first N files (after sorting): quick experiments. */
  limit?: number;
  /** Tiled training: keep each image at its working size (aspect kept), tiles are cut per batch. */
  tiling?: TilingSpec;
}

/** Loads a folder of good images and splits it into train and validation by a seeded shuffle. */
export async function loadDataset(root: string, o: LoadOptions): Promise<Dataset> {
  let files = await listImages(root);
  if (o.limit !== undefined) files = files.slice(0, o.limit);
  if (files.length < 2) {
    throw new MmaerecError('E_DATA', `data folder ${root} holds ${files.length} image(s) (${IMAGE_EXTENSIONS.join(', ')}): training needs at least 2 good images`);
  }
  const hash = createHash('sha256');
  const tiling = o.tiling;
  const decoded = await mapLimit(files, 8, (f) =>
    tiling ? decodeImageTo(f, (w, h) => workingSize(w, h, Math.max(tiling.shortEdge, o.size))) : decodeImageTo(f, () => ({ width: o.size, height: o.size })));
  const pixels = decoded.map((d) => d.rgb);
  for (const f of files) {
    const bytes = await readFile(f);
    hash.update(relative(root, f)).update('\0').update(createHash('sha256').update(bytes).digest()).update('\0');
  }
  const order = new Rng(o.seed ^ 0x5eed).permutation(files.length);
  const nVal = Math.min(files.length - 1, Math.max(1, Math.round(files.length * o.validationFraction)));
  const pick = (idx: number[]): ImageSet => ({
    size: o.size,
    files: idx.map((i) => relative(root, files[i]!)),
    pixels: idx.map((i) => pixels[i]!),
    ...(tiling ? { dims: idx.map((i) => ({ width: decoded[i]!.width, height: decoded[i]!.height })) } : {}),
  });
  const valIdx = order.slice(0, nVal).sort((a, b) => a - b);
  const trainIdx = order.slice(nVal).sort((a, b) => a - b);
  return { root, train: pick(trainIdx), validation: pick(valIdx), digest: hash.digest('hex') };
}

/** Checks that a data folder exists and is a directory (before any expensive work). */
export async function assertDataFolder(root: string): Promise<void> {
  const s = await stat(root).catch(() => undefined);
  if (!s?.isDirectory()) throw new MmaerecError('E_DATA', `data folder ${root} does not exist or is not a folder: pass --data <folder of good images>`);
}

/** uint8 HWC → float32 HWC in [0, 1]. */
export function toFloat(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i]! / 255;
  return out;
}
