/**
 * Picks the tfjs back end for training, best first: tfjs-node-gpu (CUDA) → tfjs-node (libtensorflow CPU) →
 * wasm (XNNPACK, with the project's conv gradient kernels) → the pure-JS cpu back end. The two tfjs-node
 * packages are optional: they are imported only when installed (their install step downloads libtensorflow,
 * which fails offline), and every skipped candidate keeps the reason so the choice can be explained.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MmaerecError } from '../errors.js';

export type TrainBackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export type TrainBackendRequest = 'auto' | TrainBackendName;

export interface BackendChoice {
  /** What runs: 'tensorflow-gpu' (tfjs-node-gpu), 'tensorflow' (tfjs-node), 'wasm' or 'cpu'. */
  name: TrainBackendName;
  /** tfjs's own back-end name ('tensorflow', 'wasm', 'cpu'). */
  tfName: string;
  /** Why each better candidate was skipped. */
  skipped: { name: TrainBackendName; reason: string }[];
}

let gradientsLoaded = false;

/**
 * tfjs-core ships its gradient functions only as untranspiled ESM sources that Node cannot load; the
 * `@tensorflow/tfjs` bundle registers them (in the global registry shared with tfjs-core). Idempotent.
 */
export async function loadGradients(): Promise<void> {
  if (gradientsLoaded) return;
  await import('@tensorflow/tfjs');
  gradientsLoaded = true;
}

async function tryNode(pkg: string): Promise<string | undefined> {
  try {
    await import(pkg);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return `${pkg} is not installed`;
    return `${pkg} failed to load: ${(err as Error).message.split('\n')[0]}`;
  }
  if (!tf.findBackend('tensorflow')) {
    return `${pkg} loaded but registered no 'tensorflow' back end with this @tensorflow/tfjs-core (version mismatch? install a 4.22 build)`;
  }
  return undefined;
}

async function setWasm(): Promise<string | undefined> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    const { registerWasmConvGradients } = await import('./kernels/wasm-conv-grad.js');
    registerWasmConvGradients();
    if (!(await tf.setBackend('wasm'))) return 'the wasm back end failed to initialise';
    return undefined;
  } catch (err) {
    return `wasm back end failed: ${(err as Error).message.split('\n')[0]}`;
  }
}

/**
 * Selects and initialises a training back end. `auto` walks the priority list; a named back end must work
 * or this throws E_UNSUPPORTED naming what to install.
 */
export async function selectTrainBackend(request: TrainBackendRequest = 'auto'): Promise<BackendChoice> {
  await loadGradients();
  const skipped: BackendChoice['skipped'] = [];
  const order: TrainBackendName[] = request === 'auto' ? ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] : [request];
  for (const name of order) {
    let reason: string | undefined;
    if (name === 'tensorflow-gpu' || name === 'tensorflow') {
      reason = await tryNode(name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node');
      if (!reason && !(await tf.setBackend('tensorflow'))) reason = 'the tensorflow back end failed to initialise';
    } else if (name === 'wasm') {
      reason = await setWasm();
    } else {
      await import('@tensorflow/tfjs-backend-cpu');
      if (!(await tf.setBackend('cpu'))) reason = 'the cpu back end failed to initialise';
    }
    if (!reason) {
      await tf.ready();
      return { name, tfName: tf.getBackend(), skipped };
    }
    skipped.push({ name, reason });
  }
  const why = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  throw new MmaerecError(
    'E_UNSUPPORTED',
    `training back end '${request}' is unavailable (${why}): install the package named or pass --backend auto`,
  );
}

/** One line for the console: which back end runs and why the better ones did not. */
export function describeBackend(choice: BackendChoice): string {
  const skipped = choice.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  return `training on tfjs back end '${choice.name}'${skipped ? ` (skipped ${skipped})` : ''}`;
}
