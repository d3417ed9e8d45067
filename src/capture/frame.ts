/** What every frame source yields. Either an encoded image (PNG/JPEG/… as a camera writes it) or raw pixels. */
export interface RawImage {
  width: number;
  height: number;
  /** 1 (gray), 3 (RGB) or 4 (RGBA), interleaved, row-major, 8 bits per channel. */
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

export interface Frame {
  /** Unique within a run; sources make it from the file name or a sequence number. */
  id: string;
  /** Wall-clock time of capture, ms since the epoch. */
  capturedAt: number;
  /** Encoded image bytes, or raw pixels. */
  image: Uint8Array | RawImage;
  /** Where it came from (file path, camera URL, "memory"), for logs and events. */
  origin?: string;
}

export function isRawImage(image: Frame['image']): image is RawImage {
  return !(image instanceof Uint8Array);
}
