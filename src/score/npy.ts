/**
 * NumPy .npy (format 1.0) header of a little-endian float32 array: magic, version, little-endian header
 * length, a Python-dict header padded with spaces to a 64-byte boundary and ending in '\n'. The raw data follows.
 */
export function npyHeaderFloat32(shape: readonly number[], length: number): Uint8Array {
  const count = shape.reduce((p, q) => p * q, 1);
  if (count !== length) throw new RangeError(`npy shape ${shape.join('×')} holds ${count} values but data has ${length}`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]); // \x93NUMPY v1.0
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  return out;
}

/** The whole .npy file (header + little-endian data) of a float32 array, in memory. */
export function encodeNpyFloat32(data: Float32Array, shape: readonly number[]): Uint8Array {
  const header = npyHeaderFloat32(shape, data.length);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header);
  const body = new DataView(out.buffer, header.length);
  for (let i = 0; i < data.length; i++) body.setFloat32(4 * i, data[i]!, true);
  return out;
}
