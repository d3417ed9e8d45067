/**
 * Reads a TensorFlow.js model from disk without tfjs: its topology (model.json) and its weights decoded to
 * float32. Two packagings are understood:
 * - the standard one: `model.json` + binary shards named by its weightsManifest;
 * - nsfwjs's: `model.min.js` and `group1-shardNofM.min.js`, browserify bundles whose single module exports
 *   the model.json object (as a JavaScript literal) or a shard's bytes (as a base64 string). They are parsed
 *   as data — a small literal parser, never evaluated — so a model file cannot run code.
 * Quantised weights are dequantised as tfjs's own io.decodeWeights does (uint8/uint16: q·scale + min in
 * double precision, then float32; float16: exact widening).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MmaerecError } from '../errors.js';

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; min?: number; scale?: number };
}

export interface TfjsModel {
  /** The model.json file read (model.json or model.min.js). */
  path: string;
  format: 'layers-model' | 'graph-model';
  /** model.json's modelTopology (a Keras model for layers models, a GraphDef for graph models). */
  topology: Record<string, unknown>;
  weightSpecs: TfjsWeightSpec[];
  /** Every weight, dequantised to float32, in Keras/TF layouts (conv HWIO). */
  weights: Map<string, { shape: number[]; data: Float32Array }>;
}

const FIX = 'pass a TensorFlow.js model folder (model.json + shards, or nsfwjs-style model.min.js + group1-shard*.min.js)';

function notTfjs(path: string, why: string): MmaerecError {
  return new MmaerecError('E_MODEL', `${path} is not a TensorFlow.js model (${why}): ${FIX}`);
}

/** Parses the JavaScript literal at `src[start…]` (objects, arrays, strings, numbers, !0/!1, null, void 0). */
export function parseJsLiteral(src: string, start: number, source: string): { value: unknown; end: number } {
  let i = start;
  const fail = (what: string): never => {
    throw notTfjs(source, `unexpected ${what} at offset ${i} of its bundled literal`);
  };
  const ws = (): void => {
    while (i < src.length && /\s/.test(src[i]!)) i++;
  };
  const str = (): string => {
    const q = src[i++];
    let out = '';
    for (;;) {
      if (i >= src.length) fail('end of file in a string');
      const ch = src[i++]!;
      if (ch === q) return out;
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      const e = src[i++]!;
      if (e === 'n') out += '\n';
      else if (e === 't') out += '\t';
      else if (e === 'r') out += '\r';
      else if (e === 'b') out += '\b';
      else if (e === 'f') out += '\f';
      else if (e === 'v') out += '\v';
      else if (e === '0' && !/[0-9]/.test(src[i] ?? '')) out += '\0';
      else if (e === 'x') {
        out += String.fromCharCode(parseInt(src.slice(i, i + 2), 16));
        i += 2;
      } else if (e === 'u') {
        if (src[i] === '{') {
          const close = src.indexOf('}', i);
          out += String.fromCodePoint(parseInt(src.slice(i + 1, close), 16));
          i = close + 1;
        } else {
          out += String.fromCharCode(parseInt(src.slice(i, i + 4), 16));
          i += 4;
        }
      } else if (e === '\n') continue;
      else out += e;
    }
  };
  const value = (): unknown => {
    ws();
    const ch = src[i];
    if (ch === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      for (;;) {
        ws();
        if (src[i] === '}') {
          i++;
          return obj;
        }
        let key: string;
        if (src[i] === '"' || src[i] === "'") key = str();
        else {
          const m = /^[A-Za-z_$0-9][A-Za-z_$0-9]*/.exec(src.slice(i, i + 256));
          if (!m) fail(`character ${JSON.stringify(src[i])} in an object key`);
          key = m![0];
          i += key.length;
        }
        ws();
        if (src[i++] !== ':') fail('token after an object key');
        obj[key] = value();
        ws();
        if (src[i] === ',') i++;
        else if (src[i] !== '}') fail(`character ${JSON.stringify(src[i])} in an object`);
      }
    }
    if (ch === '[') {
      i++;
      const arr: unknown[] = [];
      for (;;) {
        ws();
        if (src[i] === ']') {
          i++;
          return arr;
        }
        arr.push(value());
        ws();
        if (src[i] === ',') i++;
        else if (src[i] !== ']') fail(`character ${JSON.stringify(src[i])} in an array`);
      }
    }
    if (ch === '"' || ch === "'") return str();
    if (src.startsWith('!0', i)) return (i += 2), true;
    if (src.startsWith('!1', i)) return (i += 2), false;
    if (src.startsWith('true', i)) return (i += 4), true;
    if (src.startsWith('false', i)) return (i += 5), false;
    if (src.startsWith('null', i)) return (i += 4), null;
    if (src.startsWith('void 0', i)) return (i += 6), undefined;
    const m = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i, i + 64));
    if (m) {
      i += m[0].length;
      return Number(m[0]);
    }
    return fail(`character ${JSON.stringify(ch ?? 'end of file')}`);
  };
  const v = value();
  return { value: v, end: i };
}

/** The value exported by a one-module browserify bundle (nsfwjs's `.min.js` model files). */
export function browserifyExport(text: string, source: string): unknown {
  const m = /\{1:\[function\(\s*[\w$]+\s*,\s*([\w$]+)\s*,\s*[\w$]+\s*\)\s*\{\s*\1\.exports\s*=\s*/.exec(text);
  if (!m) throw notTfjs(source, 'a .js file without a bundled "module.exports = …" literal');
  return parseJsLiteral(text, m.index + m[0].length, source).value;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** model.json (or model.min.js) for a folder or file path. */
async function modelFile(path: string): Promise<string> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new MmaerecError('E_CONFIG', `${path} does not exist: ${FIX}, e.g. node_modules/nsfwjs/dist/models/mobilenet_v2`);
  }
  if (st.isFile()) return path;
  for (const name of ['model.json', 'model.min.js']) if (await exists(join(path, name))) return join(path, name);
  throw new MmaerecError('E_CONFIG', `${path} holds no model.json or model.min.js: ${FIX}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Reads a shard: raw bytes, or the base64 string of an nsfwjs-style `.min.js`. */
async function readShard(dir: string, name: string, source: string): Promise<Uint8Array> {
  const candidates = [join(dir, name), join(dir, `${name}.min.js`), join(dir, `${name.replace(/\.bin$/, '')}.min.js`)];
  for (const file of candidates) {
    if (!(await exists(file))) continue;
    const bytes = await readFile(file);
    if (!file.endsWith('.js')) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const b64 = browserifyExport(bytes.toString('utf8'), file);
    if (typeof b64 !== 'string') throw notTfjs(file, 'its bundled literal is not a base64 string');
    return new Uint8Array(Buffer.from(b64, 'base64'));
  }
  throw new MmaerecError('E_MODEL', `${source}: weight shard "${name}" is missing (looked for ${candidates.map((c) => basename(c)).join(', ')}): copy the whole model folder`);
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function decodeWeight(spec: TfjsWeightSpec, buf: Uint8Array, offset: number, source: string): { data: Float32Array; bytes: number } {
  const count = spec.shape.reduce((a, d) => a * d, 1);
  const q = spec.quantization;
  const storage = q ? q.dtype : spec.dtype;
  const per = BYTES[storage];
  if (!per || (spec.dtype !== 'float32' && spec.dtype !== 'int32')) {
    throw new MmaerecError('E_MODEL', `${source}: weight "${spec.name}" has dtype ${spec.dtype}${q ? ` quantised as ${q.dtype}` : ''}, which is not supported: use a float32 (optionally uint8/uint16/float16-quantised) model`);
  }
  const bytes = count * per;
  if (offset + bytes > buf.byteLength) throw new MmaerecError('E_MODEL', `${source}: the weight shards end inside "${spec.name}" (truncated download?): copy the whole model folder`);
  const view = new DataView(buf.buffer, buf.byteOffset + offset, bytes);
  const data = new Float32Array(count);
  if (q && (q.dtype === 'uint8' || q.dtype === 'uint16')) {
    if (typeof q.min !== 'number' || typeof q.scale !== 'number') throw new MmaerecError('E_MODEL', `${source}: quantised weight "${spec.name}" has no min/scale: re-convert the model`);
    for (let i = 0; i < count; i++) data[i] = (q.dtype === 'uint8' ? view.getUint8(i) : view.getUint16(2 * i, true)) * q.scale + q.min;
  } else if (q && q.dtype === 'float16') {
    for (let i = 0; i < count; i++) data[i] = halfToFloat(view.getUint16(2 * i, true));
  } else if (storage === 'float32') {
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(4 * i, true);
  } else if (storage === 'int32') {
    for (let i = 0; i < count; i++) data[i] = view.getInt32(4 * i, true);
  } else {
    throw new MmaerecError('E_MODEL', `${source}: weight "${spec.name}" is stored as ${storage}: re-convert the model as float32`);
  }
  return { data, bytes };
}

/** Reads a TensorFlow.js model (layers or graph) from a folder or a model.json / model.min.js file. */
export async function readTfjsModel(path: string): Promise<TfjsModel> {
  const file = await modelFile(path);
  const buf = await readFile(file);
  if (buf.subarray(0, 8).includes(0)) throw notTfjs(file, 'a binary file');
  const text = buf.toString('utf8');
  let json: unknown;
  if (/\.js$/i.test(file)) json = browserifyExport(text, file);
  else {
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw notTfjs(file, `not JSON: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (!isRecord(json) || !isRecord(json.modelTopology) || !Array.isArray(json.weightsManifest)) throw notTfjs(file, 'no modelTopology and weightsManifest');
  const topology = json.modelTopology;
  const format = json.format === 'graph-model' || Array.isArray(topology.node) ? 'graph-model' : 'layers-model';
  const dir = dirname(file);
  const weightSpecs: TfjsWeightSpec[] = [];
  const weights: TfjsModel['weights'] = new Map();
  for (const group of json.weightsManifest as { paths: string[]; weights: TfjsWeightSpec[] }[]) {
    const shards = await Promise.all(group.paths.map((p) => readShard(dir, p, file)));
    const all = new Uint8Array(shards.reduce((a, s) => a + s.byteLength, 0));
    let at = 0;
    for (const s of shards) {
      all.set(s, at);
      at += s.byteLength;
    }
    let offset = 0;
    for (const spec of group.weights) {
      const { data, bytes } = decodeWeight(spec, all, offset, file);
      offset += bytes;
      weightSpecs.push(spec);
      weights.set(spec.name, { shape: [...spec.shape], data });
    }
  }
  return { path: file, format, topology, weightSpecs, weights };
}

/**
 * The npm package a model file ships in (walking up to the nearest package.json), for licence attribution:
 * name, version, licence and the copyright line of its LICENSE file.
 */
export async function packageAttribution(path: string): Promise<{ package: string; license: string; copyright?: string; root: string } | undefined> {
  let dir = dirname(path);
  for (let k = 0; k < 8; k++) {
    const pj = join(dir, 'package.json');
    if (await exists(pj)) {
      try {
        const p = JSON.parse(await readFile(pj, 'utf8')) as { name?: string; version?: string; license?: string };
        if (p.name && p.version) {
          let copyright: string | undefined;
          for (const name of ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license']) {
            if (!(await exists(join(dir, name)))) continue;
            copyright = (await readFile(join(dir, name), 'utf8')).split('\n').find((l) => /copyright/i.test(l))?.trim();
            break;
          }
          return { package: `${p.name}@${p.version}`, license: p.license ?? 'unknown', ...(copyright ? { copyright } : {}), root: dir };
        }
      } catch {
        // a nested package.json without a name (nsfwjs's dist/models/package.json): keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}
