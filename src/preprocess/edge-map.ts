import { nativeAddon } from '../native.js';
import { edgeMapRef } from '../score/reference/edge.js';
import { assertPositiveInt, invalidParameterError } from '../util/is.js';

/**
 * The network's edge input (method.md §2): grayscale as OpenCV computes it (uint8: exactly
 * `(9798R + 19235G + 3735B + 16384) >> 15`; float: 0.299/0.587/0.114), then the morphological gradient
 * dilate − erode with a flat 3×3 kernel, ignoring pixels outside the image.
 *
 * @param image interleaved, height×width×channels (RGB order when channels = 3)
 * @returns height×width, same element type: uint8 0..255 exactly, or float
 */
export async function edgeMap<T extends Uint8Array | Float32Array>(
  image: T,
  width: number,
  height: number,
  channels: 1 | 3 = 3,
): Promise<T> {
  if (!(image instanceof Uint8Array) && !(image instanceof Float32Array)) {
    throw invalidParameterError('image', 'a Uint8Array or Float32Array', image);
  }
  assertPositiveInt('width', width);
  assertPositiveInt('height', height);
  if (channels !== 1 && channels !== 3) throw invalidParameterError('channels', '1 or 3', channels);
  if (image.length !== width * height * channels) {
    throw new RangeError(`Expected image to have ${width * height * channels} elements (${width}×${height}×${channels}) but it has ${image.length}`);
  }
  const addon = nativeAddon();
  return addon ? addon.edgeMap(image, width, height, channels) : edgeMapRef(image, width, height, channels);
}
