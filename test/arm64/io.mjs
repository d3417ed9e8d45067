// Reading and writing the arrays the arm64 smoke suite exchanges between the x86 and the emulated arm64 run:
// raw little-endian files next to a JSON index. Plain JS: this runs under the emulated arm64 Node, which has
// no TypeScript loader.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Writes a typed array as raw bytes; returns the file name for the JSON index. */
export function writeArray(dir, name, array) {
  mkdirSync(dir, { recursive: true });
  const suffix = array instanceof Float32Array ? 'f32' : array instanceof Uint8Array ? 'u8' : undefined;
  if (!suffix) throw new TypeError(`writeArray: ${name} is a ${array?.constructor?.name}; expected Float32Array or Uint8Array`);
  const file = `${name}.${suffix}`;
  writeFileSync(join(dir, file), Buffer.from(array.buffer, array.byteOffset, array.byteLength));
  return file;
}

/** Reads what writeArray wrote; the element type comes from the file's suffix. */
export function readArray(dir, file) {
  const bytes = readFileSync(join(dir, file));
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  if (file.endsWith('.f32')) return new Float32Array(copy.buffer);
  if (file.endsWith('.u8')) return copy;
  throw new Error(`readArray: ${file} has an unknown suffix; expected .f32 or .u8`);
}

export function writeJson(path, value) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n');
}

export function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** `--name value` command-line options into an object (all values strings). */
export function parseArgs(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i];
    if (!key?.startsWith('--') || argv[i + 1] === undefined) throw new Error(`bad arguments near '${key}': expected --name value pairs`);
    options[key.slice(2)] = argv[i + 1];
  }
  return options;
}
