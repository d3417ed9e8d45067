import sharp from 'sharp';
import { isRawImage, type Frame, type RawImage } from '../capture/frame.js';
import { MmaerecError } from '../errors.js';
import { printable } from '../util/printable.js';
import { resolveRoi, type Roi } from './roi.js';

type SharpPipeline = ReturnType<typeof sharp>;
type SharpMetadata = Awaited<ReturnType<SharpPipeline['metadata']>>;

/**
 * The resize used between the ROI and the model input. Training must resize the same way (exported so
 * that it can): stretch to the exact size ('fill': the bundle's input size is the contract, aspect is not
 * preserved) with sharp's default Lanczos-3 kernel.
 */
export const MODEL_RESIZE = { fit: 'fill', kernel: 'lanczos3' } as const;

/**
 * The most pixels an encoded frame may have (sharp's default `limitInputPixels`, 16383²); larger ones are
 * refused before decoding. The score CLI uses the same limit.
 */
export const MAX_INPUT_PIXELS = 0x3fff * 0x3fff;

export interface DecodedFrame {
  /** Interleaved RGB, 8 bits, at the model input size. */
  rgb: Uint8Array;
  width: number;
  height: number;
  /** Size of the original frame. */
  frameWidth: number;
  frameHeight: number;
  /** The ROI in force, in original-frame pixels. */
  roi: Roi;
}

/**
 * Decodes a frame (encoded bytes or raw pixels), crops the ROI and resizes it to the model input, as one
 * libvips pipeline on sharp's worker threads (never on the JS thread). Unusable input → E_INPUT naming the
 * frame and the fix: undecodable or truncated bytes, raw data of the wrong length, an ROI outside the frame.
 */
export async function decodeFrame(frame: Frame, width: number, height: number, roi?: Roi): Promise<DecodedFrame> {
  return decodeFrameTo(frame, () => ({ width, height }), roi);
}

/**
 * decodeFrame with the output size chosen from the ROI's size (tiled inspection keeps the ROI's aspect
 * ratio: preprocess/tiles.ts). `sizeFor` gets the ROI's width and height in frame pixels.
 */
export async function decodeFrameTo(frame: Frame, sizeFor: (roiWidth: number, roiHeight: number) => { width: number; height: number }, roi?: Roi): Promise<DecodedFrame> {
  const image = frame.image;
  let width = 0;
  let height = 0;
  let pipeline: SharpPipeline;
  let frameWidth: number;
  let frameHeight: number;
  if (isRawImage(image)) {
    checkRaw(frame.id, image);
    frameWidth = image.width;
    frameHeight = image.height;
    const box = resolveRoi(roi, frameWidth, frameHeight);
    ({ width, height } = sizeFor(box.width, box.height));
    // Fast path: raw RGB already at the model size with no crop (ffmpeg scaled it): no copy, no libvips.
    if (image.channels === 3 && box.width === width && box.height === height && frameWidth === width && frameHeight === height) {
      return { rgb: image.data, width, height, frameWidth, frameHeight, roi: box };
    }
    pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
  } else {
    if (!(image instanceof Uint8Array) || image.length === 0) {
      throw new MmaerecError('E_INPUT', `frame ${frame.id}: empty image: send encoded image bytes (PNG, JPEG, …) or a RawImage`);
    }
    ({ pipeline, width: frameWidth, height: frameHeight } = await openEncoded(frame.id, image));
  }
  const box = resolveRoi(roi, frameWidth, frameHeight);
  ({ width, height } = sizeFor(box.width, box.height));
  if (box.x !== 0 || box.y !== 0 || box.width !== frameWidth || box.height !== frameHeight) {
    pipeline = pipeline.extract({ left: box.x, top: box.y, width: box.width, height: box.height });
  }
  try {
    const { data, info } = await pipeline
      .resize(width, height, MODEL_RESIZE)
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== width || info.height !== height) {
      throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}, expected ${width}×${height}×3`);
    }
    return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height, frameWidth, frameHeight, roi: box };
  } catch (err) {
    throw await undecodable(frame.id, err, isRawImage(image) ? undefined : image);
  }
}

/** An encoded frame opened with the SDK's decode policy, auto-oriented; width and height after orientation. */
export interface OpenedImage {
  pipeline: SharpPipeline;
  width: number;
  height: number;
}

/**
 * Opens encoded bytes with the one decode policy of the SDK — inspection and heatmaps alike, so a frame that
 * can be inspected can be drawn: failOn 'truncated' (a cut-off file, a camera still writing, is an error, not
 * grey pixels; recoverable entropy-coding damage is decoded as libjpeg does), the pixel limit, EXIF
 * orientation applied. Reads the header only; E_INPUT naming the frame when it is not an image.
 */
export async function openEncoded(id: string, image: Uint8Array): Promise<OpenedImage> {
  const pipeline = sharp(image, DECODE_OPTIONS);
  let meta: SharpMetadata;
  try {
    meta = await pipeline.metadata();
  } catch (err) {
    throw await undecodable(id, err, image);
  }
  if (!meta.width || !meta.height) throw await undecodable(id, new Error('no image size in the header'));
  const rotated = (meta.orientation ?? 1) >= 5; // EXIF 5–8 swap width and height after autoOrient
  return { pipeline: pipeline.autoOrient(), width: rotated ? meta.height : meta.width, height: rotated ? meta.width : meta.height };
}

/** sharp's input options for encoded frames (see openEncoded). */
export const DECODE_OPTIONS = { failOn: 'truncated', limitInputPixels: MAX_INPUT_PIXELS } as const;

function checkRaw(id: string, image: RawImage): void {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0 || ![1, 3, 4].includes(channels)) {
    throw new MmaerecError('E_INPUT', `frame ${id}: raw image ${String(width)}×${String(height)}×${String(channels)} is not a valid size: give positive width/height and 1, 3 or 4 channels`);
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height * channels) {
    const got = data instanceof Uint8Array ? `${data.length} bytes` : 'no Uint8Array';
    throw new MmaerecError('E_INPUT', `frame ${id}: raw image has ${got}, expected ${width}×${height}×${channels} = ${width * height * channels}: check the camera's width, height and pixel format`);
  }
}

/**
 * The E_INPUT for bytes that do not decode, with the decoder's reason. libvips keeps one error buffer for the
 * process, so a decode failing while others run can find it cleared and sharp says only "Unknown error" (61
 * of 610 fuzzed frames in a run): then the bytes are decoded once more alone for the reason, and failing that
 * the message says what the bytes look like.
 */
async function undecodable(id: string, err: unknown, bytes?: Uint8Array): Promise<MmaerecError> {
  let detail = firstLine(err);
  if (bytes && uninformative(detail)) {
    const again = await diagnose(bytes);
    const format = formatOf(bytes);
    detail = again !== undefined && !uninformative(again) ? again : format ? `corrupt ${format} data; the decoder gave no detail` : 'not a PNG, JPEG, TIFF or WebP signature';
  }
  return new MmaerecError('E_INPUT', `frame ${id}: cannot decode the image (${detail}): send a complete PNG, JPEG, TIFF or WebP file, or raw RGB`, { cause: err });
}

function firstLine(err: unknown): string {
  return printable((err instanceof Error ? err.message : String(err)).split('\n')[0]!);
}

function uninformative(detail: string): boolean {
  return detail === '' || /^(Unknown error|Warning treated as error.*)$/.test(detail) || detail.endsWith(':');
}

/** Decodes `bytes` again (one at a time, to give libvips' error buffer the best chance); the error's first line, or undefined if it decodes. */
let diagnosing: Promise<unknown> = Promise.resolve();
function diagnose(bytes: Uint8Array): Promise<string | undefined> {
  const run = diagnosing.then(async () => {
    try {
      await sharp(bytes, DECODE_OPTIONS).autoOrient().resize(8, 8, { fit: 'fill' }).raw().toBuffer();
      return undefined;
    } catch (e) {
      return firstLine(e);
    }
  });
  diagnosing = run.catch(() => undefined);
  return run;
}

/** What the bytes claim to be, from their signature. */
function formatOf(b: Uint8Array): string | undefined {
  const ascii = (from: number, to: number): string => String.fromCharCode(...b.subarray(from, to));
  if (b[0] === 0x89 && ascii(1, 4) === 'PNG') return 'PNG';
  if (b[0] === 0xff && b[1] === 0xd8) return 'JPEG';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'WebP';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'TIFF';
  if (ascii(0, 3) === 'GIF') return 'GIF';
  return undefined;
}
