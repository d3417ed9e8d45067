import { readFile, writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { MmaerecError } from '../errors.js';
import type { ScoringOptions } from '../model/manifest.js';
import { fusedScore } from './fused.js';
import { encodeNpyFloat32 } from './npy.js';

export interface RgbImage {
  width: number;
  height: number;
  /** Interleaved RGB in [0, 1]. */
  data: Float32Array;
}

/**
 * Decodes an image file (anything sharp reads) to float RGB in [0, 1]: gray images are promoted to RGB,
 * alpha is dropped, 16-bit images keep their precision. Errors name the file and the fix.
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
  try {
    const { data, info } = await sharp(bytes).removeAlpha().toColourspace('srgb').raw({ depth: 'float' }).toBuffer({ resolveWithObject: true });
    const floats = new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4);
    const n = info.width * info.height;
    const rgb = new Float32Array(n * 3);
    // libvips gives float samples on the 0..255 scale (0..65535 for 16-bit input read as srgb is rescaled to 0..255).
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) rgb[3 * i + c] = floats[info.channels * i + (info.channels >= 3 ? c : 0)]! / 255;
    }
    return { width: info.width, height: info.height, data: rgb };
  } catch (err) {
    const detail = (err as Error).message.split('\n')[0];
    throw new MmaerecError('E_INPUT', `cannot decode image ${path} (${detail}): give a PNG, JPEG, TIFF or WebP file`, { cause: err });
  }
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
  const [input, recon] = await Promise.all([readRgbImage(inputPath), readRgbImage(reconPath)]);
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
  if (out) {
    try {
      await writeFile(out, encodeNpyFloat32(result.map, [input.height, input.width]));
    } catch (err) {
      throw new MmaerecError('E_IO', `cannot write ${out}: ${(err as Error).message}; check the directory exists and is writable`, { cause: err });
    }
  }
  return { score: result.score, width: input.width, height: input.height, map: result.map };
}
