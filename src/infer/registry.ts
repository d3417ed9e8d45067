import { MmaerecError } from '../errors.js';
import type { LoadedBundle } from '../model/bundle.js';
import type { InferenceBackend } from './backend.js';

export type BackendName = 'onnxruntime' | 'tensorrt';

export interface BackendOptions {
  /** 'auto' (default) tries registered back ends by priority; a name forces that one. */
  backend?: 'auto' | BackendName;
  /** CPU threads for intra-op parallelism (ONNX Runtime); default: the runtime's choice. */
  threads?: number;
  /**
   * Independent sessions of the model that run frames side by side (ONNX Runtime; default 1). Each holds its
   * own copy of the weights and `threads` threads. On a small CPU, `sessions: 2, threads: 1` gives more frames
   * per second than one session with 2 threads (each frame takes longer); TensorRT ignores it.
   */
  sessions?: number;
  /** 'cuda' requires the GPU; 'cpu' forbids it; unset: GPU when available, else CPU. */
  device?: 'cpu' | 'cuda';
  /**
   * 'fp32' (default): the bundle's model.onnx. 'int8': its INT8 variant (`mmaerec-edge quantize`), on ONNX Runtime
   * CPU; TensorRT's INT8 is a property of its engine instead (`build-engine --int8`), so int8 selects ONNX Runtime.
   */
  precision?: Precision;
  /**
   * Frames one run may take (default 1). ONNX Runtime batches them when the model allows it (onnx-batch.ts);
   * TensorRT up to the batch range its engine was built with (`build-engine --max-batch`), and with an engine built
   * for one frame it says so in `batchingOff`.
   */
  maxBatch?: number;
}

export const PRECISIONS = ['fp32', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Why a better back end was not used. */
export interface SkippedBackend {
  name: string;
  reason: string;
}

/** A created back end plus the reasons each higher-priority one was skipped. */
export type SelectedBackend = InferenceBackend & { readonly skipped: readonly SkippedBackend[] };

export interface BackendEntry {
  name: BackendName;
  /** Higher first. TensorRT registers above ONNX Runtime. */
  priority: number;
  /** Resolves with the back end, or throws (the message becomes the skip reason). */
  create(bundle: LoadedBundle, options: BackendOptions): Promise<InferenceBackend>;
}

const entries: BackendEntry[] = [];

/**
 * Adds (or replaces, by name) a back end; ONNX Runtime is registered by default. Returns a function that
 * removes this entry again (and restores the one it replaced).
 */
export function registerBackend(entry: BackendEntry): () => void {
  const at = entries.findIndex((e) => e.name === entry.name);
  const replaced = at >= 0 ? entries.splice(at, 1)[0] : undefined;
  entries.push(entry);
  entries.sort((a, b) => b.priority - a.priority);
  return () => {
    const i = entries.indexOf(entry);
    if (i >= 0) entries.splice(i, 1);
    if (replaced) registerBackend(replaced);
  };
}

// Default entries, imported only when tried: TensorRT first (needs the addon built with TensorRT and an engine
// built for this GPU; otherwise its reason is recorded and ONNX Runtime is used), then ONNX Runtime.
registerBackend({
  name: 'tensorrt',
  priority: 100,
  create: async (bundle, options) => {
    if (bundle.manifest.featureFusion && bundle.manifest.featureFusion.alpha > 0) {
      // Not yet joined: the engine's second output would need its own binding in native/tensorrt.
      throw new MmaerecError('E_UNSUPPORTED', "the TensorRT back end does not read a feature bank's featureDistance output yet, and this bundle fuses it: use the onnxruntime back end (chosen automatically), or a bundle without featureFusion");
    }
    return (await import('./tensorrt.js')).tensorrtBackendEntry.create(bundle, options);
  },
});
registerBackend({
  name: 'onnxruntime',
  priority: 10,
  create: async (bundle, options) => (await import('./onnxruntime.js')).createOnnxRuntimeBackend(bundle, options),
});

/** Registered back ends, best first. */
export function listBackends(): readonly BackendEntry[] {
  return [...entries];
}

/**
 * Creates the best available back end for `bundle`. With `backend: 'auto'` each failure is remembered and the
 * next one is tried; the result's `skipped` lists why. If none works, the error lists every reason.
 */
export async function createBackend(bundle: LoadedBundle, options: BackendOptions = {}): Promise<SelectedBackend> {
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
    throw new RangeError(`Expected a positive integer for threads but received ${options.threads}`);
  }
  if (options.sessions !== undefined && (!Number.isInteger(options.sessions) || options.sessions < 1 || options.sessions > 16)) {
    throw new RangeError(`Expected an integer in 1..16 for sessions but received ${options.sessions}`);
  }
  if (options.maxBatch !== undefined && (!Number.isInteger(options.maxBatch) || options.maxBatch < 1 || options.maxBatch > 64)) {
    throw new RangeError(`Expected an integer in 1..64 for maxBatch but received ${options.maxBatch}`);
  }
  if (options.precision !== undefined && !PRECISIONS.includes(options.precision)) {
    throw new RangeError(`Expected 'fp32' or 'int8' for precision but received ${String(options.precision)}`);
  }
  const wanted = options.backend ?? 'auto';
  if (options.precision === 'int8' && wanted === 'tensorrt') {
    throw new MmaerecError('E_CONFIG', 'precision int8 selects the ONNX Runtime INT8 model, not TensorRT: for TensorRT INT8 build the engine with "build-engine --int8" and leave precision at fp32, or use backend onnxruntime');
  }
  const candidates = (wanted === 'auto' ? entries : entries.filter((e) => e.name === wanted)).filter((e) => options.precision !== 'int8' || e.name === 'onnxruntime');
  if (candidates.length === 0) {
    throw new MmaerecError(
      wanted === 'tensorrt' ? 'E_UNSUPPORTED' : 'E_CONFIG',
      `inference back end "${wanted}" is not available in this build: use one of ${entries.map((e) => e.name).join(', ')} or "auto"`,
    );
  }
  const skipped: SkippedBackend[] = [];
  const unavailable = new Set<SkippedBackend>(); // back ends this machine cannot run at all (E_UNSUPPORTED)
  for (const entry of candidates) {
    try {
      const backend = await entry.create(bundle, options);
      const fallback = (backend as { fallback?: string }).fallback;
      if (fallback) skipped.push({ name: `${entry.name}-cuda`, reason: fallback });
      return Object.assign(backend, { skipped });
    } catch (err) {
      if (wanted !== 'auto') throw err;
      const s = { name: entry.name, reason: (err as Error).message };
      skipped.push(s);
      if ((err as { code?: string }).code === 'E_UNSUPPORTED') unavailable.add(s);
    }
  }
  throw new MmaerecError('E_INFER', `no inference back end could load ${bundle.dir}: ${whyNone(skipped, unavailable)}`);
}

/**
 * The cause first: the back ends that could run here but failed on this bundle, with their fixes; then, briefly,
 * those this machine cannot run at all — their problem without its install advice (which is long, and not the
 * fix for this failure). When every back end is unavailable, each keeps its full reason and fix.
 */
function whyNone(skipped: readonly SkippedBackend[], unavailable: ReadonlySet<SkippedBackend>): string {
  const failed = skipped.filter((s) => !unavailable.has(s));
  if (failed.length === 0) return skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  const cause = failed.map((s) => (s.reason.startsWith(s.name) ? s.reason : `${s.name}: ${s.reason}`)).join('; ');
  const lacking = [...unavailable].map((s) => `${s.name} (${problemOf(s.reason)}${/tensorrt/i.test(s.name) ? '; docs/tensorrt.md' : ''})`);
  return lacking.length ? `${cause}; not available on this machine: ${lacking.join(', ')}` : cause;
}

/** A message's problem without its fix: the text before the first ": " outside parentheses. */
function problemOf(message: string): string {
  let depth = 0;
  for (let i = 0; i < message.length - 1; i++) {
    const c = message[i];
    if (c === '(') depth += 1;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === ':' && message[i + 1] === ' ' && depth === 0) return message.slice(0, i);
  }
  return message;
}
