import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { MmaerecError } from '../errors.js';
import type { LoadedBundle } from '../model/bundle.js';
import { assertFloat32Length } from '../util/is.js';
import type { InferenceBackend, InferenceInputs } from './backend.js';
import type { BackendOptions } from './registry.js';
import { ORT_WORKER_SOURCE, type WorkerReply } from './onnxruntime-worker.js';

type Ort = typeof import('onnxruntime-node');

const require = createRequire(import.meta.url);

/**
 * Whether this onnxruntime-node install can use the CUDA execution provider: the build must list it and its
 * provider libraries must be present (the npm package ships them only after its CUDA download step).
 */
export function cudaAvailable(ort: Ort): { ok: boolean; reason: string } {
  const cuda = ort.listSupportedBackends().find((b) => b.name === 'cuda');
  if (!cuda) return { ok: false, reason: 'this onnxruntime-node build has no CUDA execution provider' };
  if (cuda.bundled) return { ok: true, reason: '' };
  const dir = join(dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
  for (const lib of ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so']) {
    if (!existsSync(join(dir, lib))) {
      return { ok: false, reason: `onnxruntime-node's CUDA provider is not installed (${lib} missing; it is downloaded by the package's install step)` };
    }
  }
  return { ok: true, reason: '' };
}

/**
 * ONNX Runtime back end (onnxruntime-node). CPU by default; CUDA when `device` is 'cuda', or when unset and
 * the install has the CUDA provider (a failed CUDA session falls back to CPU, with the reason in `fallback`).
 *
 * The session lives in a worker thread: onnxruntime-node 1.30's `session.run` returns a Promise but computes
 * on the calling thread (measured: a 1 ms timer did not fire during runs; cf. microsoft/onnxruntime#19611),
 * so running it on the main thread would stall every other frame, MQTT keep-alive and HTTP request.
 */
/** How long dispose() waits for the worker to finish a run and exit before terminating it. */
const CLOSE_TIMEOUT_MS = 60_000;

export async function createOnnxRuntimeBackend(bundle: LoadedBundle, options: BackendOptions = {}): Promise<InferenceBackend & { fallback?: string }> {
  let ort: Ort;
  let ortPath: string;
  try {
    ortPath = require.resolve('onnxruntime-node');
    ort = await import('onnxruntime-node');
  } catch (err) {
    throw new MmaerecError('E_UNSUPPORTED', `onnxruntime-node cannot load (${(err as Error).message}): reinstall it with "npm install onnxruntime-node"`);
  }
  const { width, height } = bundle.manifest.input;
  const base = {
    graphOptimizationLevel: 'all',
    // Idle ORT threads spin by default; on a 2-core controller that steals the cores that decode and score
    // the neighbouring frames (bench:pipeline under load: pipeline/bare fell to 58 % in a spiking run).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
    ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
  };
  const attempts: { device: 'cpu' | 'cuda'; options: Record<string, unknown> }[] = [];
  let fallback: string | undefined;
  if (options.device !== 'cpu') {
    const cuda = cudaAvailable(ort);
    if (cuda.ok) attempts.push({ device: 'cuda', options: { ...base, executionProviders: ['cuda'] } });
    else if (options.device === 'cuda') {
      throw new MmaerecError('E_UNSUPPORTED', `onnxruntime CUDA requested but unavailable (${cuda.reason}): install an onnxruntime-node build with CUDA, or use --device cpu`);
    } else fallback = cuda.reason;
  }
  if (options.device !== 'cuda') attempts.push({ device: 'cpu', options: { ...base, executionProviders: ['cpu'] } });

  // The worker source is CommonJS; a host started with --input-type=module would pass that flag on to it.
  // Stack: libonnxruntime walks /proc/self/cmdline recursively at session creation; with a long command line
  // (`inspect` given a few hundred image paths) that overflowed a worker's default 4 MiB stack (SIGSEGV).
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  const worker = new Worker(ORT_WORKER_SOURCE, { eval: true, execArgv, resourceLimits: { stackSizeMb: 64 }, workerData: { ortPath, onnxPath: bundle.paths.onnx, attempts: attempts.map((a) => a.options) } });
  const pending = new Map<number, { resolve: (v: Float32Array) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let dead: Error | undefined;
  let disposed = false;
  let exited = false;
  const rejectPending = (): void => {
    for (const p of pending.values()) p.reject(new MmaerecError('E_INFER', 'onnxruntime back end disposed while a run was in flight: wait for runs before dispose()'));
    pending.clear();
  };
  const ready = new Promise<{ index: number; failures: string[] }>((resolve, reject) => {
    worker.on('message', (msg: WorkerReply) => {
      if (msg.type === 'ready') resolve({ index: msg.index, failures: msg.failures });
      else if (msg.type === 'failed') reject(new MmaerecError('E_INFER', `onnxruntime cannot load ${bundle.paths.onnx} (${msg.failures.join('; ')}): recreate the bundle`));
      else if (msg.type === 'result') {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (!p) return;
        if (msg.error !== undefined) p.reject(new MmaerecError('E_INFER', `onnxruntime run failed (${msg.error}): check the bundle and inputs`));
        else if (!msg.recon || msg.recon.length !== 3 * width * height) {
          p.reject(new MmaerecError('E_INFER', `onnxruntime returned no 1×3×${height}×${width} "recon" output: recreate the bundle with this SDK`));
        } else p.resolve(msg.recon);
      }
    });
    worker.on('exit', (code) => {
      exited = true;
      if (disposed) return rejectPending();
      // Exited on its own (without an 'error' event): fail the load, the runs in flight and every later run,
      // instead of leaving them pending on a worker that will never answer.
      dead ??= new Error(`the worker thread exited with code ${code}`);
      const error = new MmaerecError('E_INFER', `onnxruntime worker failed (${dead.message}): create a new back end`);
      reject(error);
      for (const p of pending.values()) p.reject(error);
      pending.clear();
    });
    worker.on('error', (err) => {
      dead = err;
      reject(err);
      for (const p of pending.values()) p.reject(new MmaerecError('E_INFER', `onnxruntime worker failed (${err.message}): create a new back end`));
      pending.clear();
    });
  });
  let chosen;
  try {
    chosen = await ready;
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  worker.unref(); // from now on, only a run in flight keeps the process alive (see run())
  const device = attempts[chosen.index]!.device;
  if (chosen.failures.length) fallback = chosen.failures.join('; ');
  if (options.device === 'cuda' && device !== 'cuda') {
    await worker.terminate();
    throw new MmaerecError('E_UNSUPPORTED', `onnxruntime CUDA requested but failed (${fallback}): fix the CUDA install, or use --device cpu`);
  }
  const plane = width * height;

  function run(inputs: InferenceInputs): Promise<Float32Array> {
    if (disposed) return Promise.reject(new MmaerecError('E_INFER', 'onnxruntime back end used after dispose(): create a new back end'));
    if (dead) return Promise.reject(new MmaerecError('E_INFER', `onnxruntime worker failed (${dead.message}): create a new back end`));
    try {
      assertFloat32Length('inputs.image', inputs.image, 3 * plane);
      assertFloat32Length('inputs.edge', inputs.edge, plane);
    } catch (err) {
      return Promise.reject(err);
    }
    const id = nextId++;
    return new Promise<Float32Array>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      if (pending.size === 1) worker.ref(); // keep the process alive while a run is in flight
      worker.postMessage({ type: 'run', id, image: inputs.image, edge: inputs.edge, width, height });
    }).finally(() => {
      if (pending.size === 0) worker.unref();
    });
  }

  /**
   * Asks the worker to finish its current run, release the session and exit. Not worker.terminate(): tearing
   * the worker down inside session.run aborted the whole process ("terminate called after throwing an
   * instance of 'Napi::Error'", from onnxruntime-node's binding). terminate() stays as a last resort.
   */
  async function closeWorker(): Promise<void> {
    if (exited) return;
    worker.ref();
    const gone = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'close' });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_TIMEOUT_MS)));
    if ((await Promise.race([gone, late])) === 'late') await worker.terminate();
    clearTimeout(timer);
  }

  // Warm-up at load: the first run allocates and plans; do it before the first frame arrives.
  try {
    await run({ image: new Float32Array(3 * plane).fill(0.5), edge: new Float32Array(plane) });
  } catch (err) {
    await worker.terminate();
    throw err;
  }

  const backend: InferenceBackend & { fallback?: string } = {
    name: `onnxruntime-${device}`,
    width,
    height,
    run,
    async dispose() {
      if (disposed) return;
      disposed = true;
      rejectPending(); // settled now, whatever the worker still sends
      await closeWorker();
    },
  };
  if (fallback) backend.fallback = fallback;
  return backend;
}
