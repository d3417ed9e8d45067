/**
 * A minimal .npy reader for the tests: reads what evaluate writes (src/score/npy.ts, NumPy format 1.0,
 * little-endian float32, C order), independently of the writer, to check the saved maps.
 */
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Reads a 2-D little-endian float32 C-order .npy (what encodeNpy writes). */
export function decodeNpy(bytes: Uint8Array): { data: Float32Array; height: number; width: number } {
  const bad = (why: string) => new Error(`not a 2-D float32 .npy file (${why})`);
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
