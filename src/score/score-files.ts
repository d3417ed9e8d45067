import { open, readFile } from 'node:fs/promises';
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

/**
 * Decodes an image file (anything sharp reads) to float RGB in [0, 1]: gray images are promoted to RGB,
 * alpha is dropped, 16-bit images keep their precision. Errors name the file and the fix. Images above
 * MAX_INPUT_PIXELS (the limit inspection decodes) are refused from their header, before any pixel is
 * decoded. The result is a view of libvips' output buffer, scaled in place: 12 bytes per pixel, no copy.
 */
export async function readRgbImage(path: string): Promise<RgbImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new MmaerecError('E_INPUT', `cannot read image ${path}: ${why}; check the path`, { cause: err });
  }
  const undecodable = (err: unknown) => {
    const detail = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
    return new MmaerecError('E_INPUT', `cannot decode image ${path} (${detail}): give a PNG, JPEG, TIFF or WebP file`, { cause: err });
  };
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    // The header only (no pixels), read without a limit so that the refusal below can give the size.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw undecodable(err);
  }
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (pixels > MAX_INPUT_PIXELS) {
    throw new MmaerecError(
      'E_INPUT',
      `image ${path} is ${meta.width}×${meta.height} = ${pixels} pixels, above the limit of ${MAX_INPUT_PIXELS} (the same as inspection): crop or downscale it first`,
    );
  }
  let data: Buffer;
  let info: OutputInfo;
  try {
    ({ data, info } = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS }).removeAlpha().toColourspace('srgb').raw({ depth: 'float' }).toBuffer({ resolveWithObject: true }));
  } catch (err) {
    throw undecodable(err);
  }
  if (info.channels !== 3 || data.byteLength !== info.width * info.height * 12) {
    throw undecodable(new Error(`decoded to ${info.width}×${info.height}×${info.channels} (${data.byteLength} bytes), expected 3 float channels`));
  }
  // libvips gives float samples on the 0..255 scale (16-bit input read as srgb is rescaled to 0..255 too).
  const rgb = data.byteOffset % 4 === 0 ? new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4) : new Float32Array(new Uint8Array(data).buffer);
  for (let i = 0; i < rgb.length; i++) rgb[i] = rgb[i]! / 255;
  return { width: info.width, height: info.height, data: rgb };
}

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
  options: Partial<ScoringOptions> & { out?: string } = {},
): Promise<ScoreFilesResult> {
  const { out, ...scoring } = options;
  // One after the other: libvips' decode buffers of the two images are never held at the same time.
  const input = await readRgbImage(inputPath);
  const recon = await readRgbImage(reconPath);
  if (input.width !== recon.width || input.height !== recon.height) {
    throw new MmaerecError(
      'E_INPUT',
      `image sizes differ: ${inputPath} is ${input.width}×${input.height}, ${reconPath} is ${recon.width}×${recon.height}; score a reconstruction of the same size`,
    );
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
