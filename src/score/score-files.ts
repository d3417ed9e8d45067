import { open, readFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import sharp, { type OutputInfo } from 'sharp';
import { MmaerecError } from '../errors.js';
import type { ScoringOptions } from '../model/manifest.js';
import { MAX_INPUT_PIXELS } from '../preprocess/decode.js';
import { fusedScore } from './fused.js';
import { npyHeaderFloat32 } from './npy.js';

export interface RgbImage {
  width: number;
  height: number;
  /** Interleaved RGB in [0, 1]. */
  data: Float32Array;
}

/** An image file read and its header checked: its bytes and size, nothing decoded yet. */
interface OpenedImage {
  path: string;
  bytes: Buffer;
  width: number;
  height: number;
}

const undecodable = (path: string, err: unknown) => {
  const detail = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
  return new MmaerecError('E_INPUT', `cannot decode image ${path} (${detail}): give a PNG, JPEG, TIFF or WebP file`, { cause: err });
};

/** Reads a file and its image header; refuses images above MAX_INPUT_PIXELS (the limit inspection decodes). */
async function openImage(path: string): Promise<OpenedImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new MmaerecError('E_INPUT', `cannot read image ${path}: ${why}; check the path`, { cause: err });
  }
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    // The header only (no pixels), read without a limit so that the refusal below can give the size.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw undecodable(path, err);
  }
  const [width, height] = [meta.width ?? 0, meta.height ?? 0];
  if (width * height > MAX_INPUT_PIXELS) {
    throw new MmaerecError(
      'E_INPUT',
      `image ${path} is ${width}×${height} = ${width * height} pixels, above the limit of ${MAX_INPUT_PIXELS} (the same as inspection): crop or downscale it first`,
    );
  }
  return { path, bytes, width, height };
}

/** Decodes to float RGB in [0, 1]: a view of libvips' output buffer, scaled in place (12 bytes per pixel, no copy). */
async function decodeRgb({ path, bytes }: OpenedImage): Promise<RgbImage> {
  let data: Buffer;
  let info: OutputInfo;
  try {
    ({ data, info } = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS }).removeAlpha().toColourspace('srgb').raw({ depth: 'float' }).toBuffer({ resolveWithObject: true }));
  } catch (err) {
    throw undecodable(path, err);
  }
  if (info.channels !== 3 || data.byteLength !== info.width * info.height * 12) {
    throw undecodable(path, new Error(`decoded to ${info.width}×${info.height}×${info.channels} (${data.byteLength} bytes), expected 3 float channels`));
  }
  // libvips gives float samples on the 0..255 scale (16-bit input read as srgb is rescaled to 0..255 too).
  const rgb = data.byteOffset % 4 === 0 ? new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4) : new Float32Array(new Uint8Array(data).buffer);
  for (let i = 0; i < rgb.length; i++) rgb[i] = rgb[i]! / 255;
  return { width: info.width, height: info.height, data: rgb };
}

/**
 * Decodes an image file (anything sharp reads) to float RGB in [0, 1]: gray images are promoted to RGB,
 * alpha is dropped, 16-bit images keep their precision. Errors name the file and the fix. Images above
 * MAX_INPUT_PIXELS (the limit inspection decodes) are refused from their header, before any pixel is decoded.
 */
export async function readRgbImage(path: string): Promise<RgbImage> {
  return decodeRgb(await openImage(path));
}

/**
 * Peak memory of scoring per pixel, measured (test/score/score-cli.test.ts): the two decoded images (2 × 12 B),
 * the native scorer's planes and scratch (≈ 54 B) and the map (4 B).
 */
export const SCORE_BYTES_PER_PIXEL = 80;

/** The memory this process may use: the machine's, or its cgroup's limit when lower. */
function memoryLimit(): number {
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  return Math.min(totalmem(), constrained && constrained > 0 ? constrained : Infinity);
}

const gib = (bytes: number) => (bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${Math.ceil(bytes / 2 ** 20)} MiB`);

export interface ScoreFilesResult {
  score: number;
  width: number;
  height: number;
  map: Float32Array;
}

/** Scores a reconstruction file against an input file; writes the map as float32 .npy (H×W) when `out` is set. */
export async function scoreFiles(
  inputPath: string,
  reconPath: string,
  options: Partial<ScoringOptions> & { out?: string; memoryBytes?: number } = {},
): Promise<ScoreFilesResult> {
  const { out, memoryBytes, ...scoring } = options;
  // Both headers first: sizes and memory are checked before a pixel is decoded.
  const a = await openImage(inputPath);
  const b = await openImage(reconPath);
  if (a.width !== b.width || a.height !== b.height) {
    throw new MmaerecError(
      'E_INPUT',
      `image sizes differ: ${inputPath} is ${a.width}×${a.height}, ${reconPath} is ${b.width}×${b.height}; score a reconstruction of the same size`,
    );
  }
  const need = a.width * a.height * SCORE_BYTES_PER_PIXEL;
  const have = memoryBytes ?? memoryLimit();
  if (need > have) {
    throw new MmaerecError(
      'E_INPUT',
      `scoring ${a.width}×${a.height} needs about ${gib(need)} of memory (${SCORE_BYTES_PER_PIXEL} bytes per pixel), more than the ${gib(have)} this machine has: crop or downscale both images`,
    );
  }
  // One after the other: libvips' decode buffers of the two images are never held at the same time.
  const input = await decodeRgb(a);
  const recon = await decodeRgb(b);
  if (input.width !== recon.width || input.height !== recon.height) {
    throw new MmaerecError('E_INPUT', `image sizes differ after decoding: ${inputPath} is ${input.width}×${input.height}, ${reconPath} is ${recon.width}×${recon.height}; score a reconstruction of the same size`);
  }
  let result: { map: Float32Array; score: number };
  try {
    result = await fusedScore(input.data, recon.data, input.width, input.height, scoring);
  } catch (err) {
    if (err instanceof RangeError) throw new MmaerecError('E_CONFIG', `${err.message}`, { cause: err });
    throw err;
  }
  if (out) await writeNpy(out, result.map, [input.height, input.width]);
  return { score: result.score, width: input.width, height: input.height, map: result.map };
}

/** Writes the header, then the map's own bytes (no encoded copy of the map on little-endian machines). */
async function writeNpy(out: string, map: Float32Array, shape: readonly number[]): Promise<void> {
  try {
    const file = await open(out, 'w');
    try {
      await file.write(npyHeaderFloat32(shape, map.length));
      await file.write(littleEndianBytes(map));
    } finally {
      await file.close();
    }
  } catch (err) {
    throw new MmaerecError('E_IO', `cannot write ${out}: ${(err as Error).message}; check the directory exists and is writable`, { cause: err });
  }
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function littleEndianBytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const bytes = new Uint8Array(data.byteLength);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i]!, true);
  return bytes;
}
