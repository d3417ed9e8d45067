import { createHash } from 'node:crypto';
import { open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { endianness } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import type { Frame } from '../capture/frame.js';
import { MmaerecError } from '../errors.js';

/**
 * The INT8 calibration batch stream: good images → the SDK's own preprocessing (the exact `image` and `edge` inputs
 * inspection feeds the network) → one raw float32 file that the native calibrator reads sample by sample
 * (native/tensorrt/calibration_batches.h documents the same layout).
 *
 *   offset 0 "MMTRTCB1" · u32 version 1 · u32 count · u32 width · u32 height · u32 3 · u32 1   (little-endian)
 *   then per sample: float32 image[3·H·W] (planar RGB [0,1]) · float32 edge[H·W] ([0,1])
 */
export const CALIBRATION_MAGIC = 'MMTRTCB1';
export const CALIBRATION_VERSION = 1;
export const CALIBRATION_HEADER_BYTES = 32;

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp']);

/** The two network inputs for one image at the model size (what src/preprocess produces). */
export interface PreparedInputs {
  image: Float32Array;
  edge: Float32Array;
}

/** Preprocesses one frame to the model's inputs; defaults to the inspection path's `prepareFrame`. */
export type Preparer = (frame: Frame, width: number, height: number) => Promise<PreparedInputs>;

export interface CalibrationOptions {
  /** Folder of good (defect-free) images; sub-folders are not searched. */
  imagesDir: string;
  width: number;
  height: number;
  outFile: string;
  /** Use at most this many images, evenly spread over the sorted list (deterministic). */
  limit: number;
  prepare?: Preparer;
  /** Called after each image is written (for a progress line). */
  onImage?: (done: number, total: number) => void;
}

export interface CalibrationSet {
  file: string;
  count: number;
  bytes: number;
  /** sha256 of the whole file: keys the calibration cache, so new images never reuse an old cache. */
  sha256: string;
  images: string[];
}

/** The 32-byte header for `count` samples of width×height. */
export function encodeCalibrationHeader(count: number, width: number, height: number): Buffer {
  const header = Buffer.alloc(CALIBRATION_HEADER_BYTES);
  header.write(CALIBRATION_MAGIC, 0, 'latin1');
  header.writeUInt32LE(CALIBRATION_VERSION, 8);
  header.writeUInt32LE(count, 12);
  header.writeUInt32LE(width, 16);
  header.writeUInt32LE(height, 20);
  header.writeUInt32LE(3, 24);
  header.writeUInt32LE(1, 28);
  return header;
}

/** Image files directly in `dir`, sorted by name, then evenly sampled down to `limit`. */
export async function listCalibrationImages(dir: string, limit: number): Promise<string[]> {
  const root = resolve(dir);
  let names: string[];
  try {
    if (!(await stat(root)).isDirectory()) throw new Error('not a directory');
    names = await readdir(root);
  } catch {
    throw new MmaerecError('E_DATA', `calibration folder ${root} does not exist or is not a directory: pass --calib <dir of good images>`);
  }
  const images = names.filter((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase())).sort();
  if (images.length === 0) {
    throw new MmaerecError('E_DATA', `calibration folder ${root} holds no images (${[...IMAGE_EXTENSIONS].join(', ')}): point --calib at a folder of good images, e.g. <dataset>/train/good`);
  }
  const picked = images.length <= limit ? images : Array.from({ length: limit }, (_, i) => images[Math.floor((i * images.length) / limit)]!);
  return picked.map((n) => join(root, n));
}

async function defaultPreparer(): Promise<Preparer> {
  // Imported lazily: the preprocessing stack (sharp, native edge map) is only needed when calibrating.
  const { prepareFrame } = await import('../preprocess/preprocess.js');
  return async (frame, width, height) => {
    const p = await prepareFrame(frame, width, height);
    return { image: p.image, edge: p.edge };
  };
}

/**
 * Writes the calibration batch file. Every image goes through the same preprocessing as inspection; an image that
 * does not decode stops the build (E_INPUT naming the file) rather than silently calibrating on fewer samples.
 */
export async function writeCalibrationSet(options: CalibrationOptions): Promise<CalibrationSet> {
  const { width, height, outFile } = options;
  if (endianness() !== 'LE') {
    throw new MmaerecError('E_UNSUPPORTED', 'INT8 calibration files are little-endian and this host is big-endian: build the engine on the Jetson itself');
  }
  const images = await listCalibrationImages(options.imagesDir, options.limit);
  const prepare = options.prepare ?? (await defaultPreparer());
  const plane = width * height;
  const hash = createHash('sha256');
  const file = await open(outFile, 'w').catch((err: Error) => {
    throw new MmaerecError('E_IO', `cannot create calibration file ${outFile} (${err.message}): check the output directory`);
  });
  let ok = false;
  try {
    const header = encodeCalibrationHeader(images.length, width, height);
    hash.update(header);
    await file.write(header);
    for (const [i, path] of images.entries()) {
      const frame: Frame = { id: basename(path), capturedAt: Date.now(), image: await readFile(path), origin: path };
      const { image, edge } = await prepare(frame, width, height);
      if (image.length !== 3 * plane || edge.length !== plane) {
        throw new MmaerecError('E_INPUT', `preprocessing ${path} gave ${image.length}+${edge.length} floats, expected ${3 * plane}+${plane}: report this as a bug`);
      }
      // Float32Array bytes are host-endian; every supported host (x86_64, aarch64) is little-endian like the format.
      for (const t of [image, edge]) {
        const bytes = Buffer.from(t.buffer, t.byteOffset, t.byteLength);
        hash.update(bytes);
        await file.write(bytes);
      }
      options.onImage?.(i + 1, images.length);
    }
    ok = true;
  } finally {
    await file.close();
    if (!ok) await rm(outFile, { force: true });
  }
  return {
    file: outFile,
    count: images.length,
    bytes: CALIBRATION_HEADER_BYTES + images.length * 4 * plane * 4,
    sha256: hash.digest('hex'),
    images,
  };
}
