/**
 * A minimal NumPy .npy (format 1.0) writer and reader for 2-D float32 maps, so that anyone can reload the saved
 * anomaly maps with `numpy.load` and recompute the metrics independently. Header: magic, version, little-endian
 * header length, then a Python dict literal padded with spaces and a newline so the data starts 64-byte aligned.
 */
import { MmaerecError } from '../errors.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function encodeNpy(data: Float32Array, height: number, width: number): Uint8Array {
  if (data.length !== width * height) {
    throw new RangeError(`Expected ${height}×${width} = ${width * height} values for the .npy but got ${data.length}`);
  }
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${height}, ${width}), }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const body = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < data.length; i++) body.setFloat32(i * 4, data[i]!, true);
  return out;
}

/** Reads a 2-D little-endian float32 C-order .npy (what encodeNpy writes). */
export function decodeNpy(bytes: Uint8Array): { data: Float32Array; height: number; width: number } {
  const bad = (why: string) => new MmaerecError('E_INPUT', `not a 2-D float32 .npy file (${why}): write it with numpy.save(path, array.astype("<f4"))`);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw bad('no \\x93NUMPY magic');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = (major === 1 ? 10 : 12) + headerLen;
  if (start > bytes.length) throw bad('header longer than the file');
  const header = new TextDecoder().decode(bytes.subarray(major === 1 ? 10 : 12, start));
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) throw bad(`header ${header.trim()}`);
  const shape = /'shape':\s*\((\d+),\s*(\d+)\)/.exec(header);
  if (!shape) throw bad('shape is not 2-D');
  const height = Number(shape[1]);
  const width = Number(shape[2]);
  if (bytes.length - start !== width * height * 4) throw bad(`expected ${width * height * 4} data bytes, found ${bytes.length - start}`);
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(start + i * 4, true);
  return { data, height, width };
}
