import sharp from 'sharp';
import { isRawImage, type Frame, type RawImage } from '../capture/frame.js';
import { MmaerecError } from '../errors.js';
import { resolveRoi, type Roi } from './roi.js';

type SharpPipeline = ReturnType<typeof sharp>;
type SharpMetadata = Awaited<ReturnType<SharpPipeline['metadata']>>;

/**
 * The resize used between the ROI and the model input. Training must resize the same way (exported so
 * that it can): stretch to the exact size ('fill': the bundle's input size is the contract, aspect is not
 * preserved) with sharp's default Lanczos-3 kernel.
 */
export const MODEL_RESIZE = { fit: 'fill', kernel: 'lanczos3' } as const;

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
  const image = frame.image;
  let pipeline: SharpPipeline;
  let frameWidth: number;
  let frameHeight: number;
  if (isRawImage(image)) {
    checkRaw(frame.id, image);
    frameWidth = image.width;
    frameHeight = image.height;
    const box = resolveRoi(roi, frameWidth, frameHeight);
    // Fast path: raw RGB already at the model size with no crop (ffmpeg scaled it): no copy, no libvips.
    if (image.channels === 3 && box.width === width && box.height === height && frameWidth === width && frameHeight === height) {
      return { rgb: image.data, width, height, frameWidth, frameHeight, roi: box };
    }
    pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
  } else {
    if (!(image instanceof Uint8Array) || image.length === 0) {
      throw new MmaerecError('E_INPUT', `frame ${frame.id}: empty image: send encoded image bytes (PNG, JPEG, …) or a RawImage`);
    }
    // failOn 'truncated': a cut-off file (a camera still writing, a broken upload) is an error, not grey pixels.
    pipeline = sharp(image, { failOn: 'truncated' });
    let meta: SharpMetadata;
    try {
      meta = await pipeline.metadata();
    } catch (err) {
      throw undecodable(frame.id, err);
    }
    if (!meta.width || !meta.height) throw undecodable(frame.id, new Error('no image size in the header'));
    const rotated = (meta.orientation ?? 1) >= 5; // EXIF 5–8 swap width and height after autoOrient
    frameWidth = rotated ? meta.height : meta.width;
    frameHeight = rotated ? meta.width : meta.height;
    pipeline = pipeline.autoOrient();
  }
  const box = resolveRoi(roi, frameWidth, frameHeight);
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
    throw undecodable(frame.id, err);
  }
}

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

function undecodable(id: string, err: unknown): MmaerecError {
  const detail = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
  return new MmaerecError('E_INPUT', `frame ${id}: cannot decode the image (${detail}): send a complete PNG, JPEG, TIFF or WebP file, or raw RGB`, { cause: err });
}
