import { Worker } from 'node:worker_threads';
import { MmaerecError } from '../errors.js';
import { printable } from '../util/printable.js';
import type { InferenceInputs, InferenceOutputs } from './backend.js';
import { ORT_WORKER_SOURCE, type WorkerReply } from './onnxruntime-worker.js';

/** How long close() waits for the worker to finish a run and exit before terminating it. */
const CLOSE_TIMEOUT_MS = 60_000;

export interface OrtSessionSpec {
  ortPath: string;
  onnxPath: string;
  /** The model to load instead of reading onnxPath (the batchable copy, onnx-batch.ts); onnxPath still names it. */
  onnxBytes?: Uint8Array;
  /** Session options to try in order (e.g. CUDA, then CPU); the first that loads is kept. */
  attempts: Record<string, unknown>[];
  width: number;
  height: number;
  /** The model is the graph pruned to `featureDistance` (prune-onnx.ts): runs resolve with the distance map alone. */
  featureDistanceOnly?: boolean;
}

/**
 * One onnxruntime-node session in its own worker thread. The session lives off the main thread because
 * onnxruntime-node 1.30's `session.run` returns a Promise but computes on the calling thread (measured: a
 * 1 ms timer did not fire during runs; cf. microsoft/onnxruntime#19611), which would stall every other
 * frame, MQTT keep-alive and HTTP request.
 */
export class OrtWorkerSession {
  /** Index into `attempts` of the options that loaded. */
  readonly attempt: number;
  /** Why earlier attempts failed. */
  readonly failures: readonly string[];
  private readonly pending = new Map<number, { resolve: (v: Float32Array | InferenceOutputs) => void; reject: (e: Error) => void; batch: number }>();
  private nextId = 0;
  private dead: Error | undefined;
  private closing = false;
  private exited = false;

  private constructor(
    private readonly worker: Worker,
    private readonly spec: OrtSessionSpec,
    chosen: { index: number; failures: string[] },
  ) {
    this.attempt = chosen.index;
    this.failures = chosen.failures;
  }

  /** Starts the worker and loads the session; rejects (E_INFER) when no attempt loads. */
  static async start(spec: OrtSessionSpec): Promise<OrtWorkerSession> {
    // The worker source is CommonJS; a host started with --input-type=module would pass that flag on to it.
    // Stack: libonnxruntime walks /proc/self/cmdline recursively at session creation; with a long command
    // line (`inspect` given a few hundred image paths) that overflowed a worker's default 4 MiB stack.
    const execArgv = workerExecArgv(process.execArgv);
    const worker = new Worker(ORT_WORKER_SOURCE, {
      eval: true, execArgv, resourceLimits: { stackSizeMb: 64 },
      workerData: { ortPath: spec.ortPath, onnxPath: spec.onnxPath, onnxBytes: spec.onnxBytes, attempts: spec.attempts },
    });
    let session: OrtWorkerSession | undefined;
    const ready = new Promise<{ index: number; failures: string[] }>((resolve, reject) => {
      worker.on('message', (msg: WorkerReply) => {
        if (msg.type === 'ready') resolve({ index: msg.index, failures: msg.failures });
        else if (msg.type === 'failed') reject(new MmaerecError('E_INFER', `onnxruntime cannot load ${spec.onnxPath} (${msg.failures.map((f) => loadFailure(f, spec.onnxPath)).join('; ')}): recreate the bundle`));
        else if (msg.type === 'result') session?.settle(msg);
      });
      worker.on('exit', (code) => {
        const error = session ? session.onExit(code) : new MmaerecError('E_INFER', `onnxruntime worker failed (the worker thread exited with code ${code}): create a new back end`);
        if (error) reject(error);
      });
      worker.on('error', (err) => {
        reject(err);
        session?.onError(err);
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
    session = new OrtWorkerSession(worker, spec, chosen);
    return session;
  }

  /** Runs in flight on this session. */
  get load(): number {
    return this.pending.size;
  }

  /**
   * One run of `batch` frames stacked in `inputs` (batch > 1 needs a model with a symbolic batch). A
   * `featureDistanceOnly` session resolves with the distance map (a Float32Array) and ignores `inputs.edge`.
   */
  run(inputs: InferenceInputs, batch = 1): Promise<Float32Array | InferenceOutputs> {
    if (this.dead) return Promise.reject(new MmaerecError('E_INFER', `onnxruntime worker failed (${this.dead.message}): create a new back end`));
    const { width, height } = this.spec;
    const id = this.nextId++;
    return new Promise<Float32Array | InferenceOutputs>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, batch });
      if (this.pending.size === 1) this.worker.ref(); // keep the process alive while a run is in flight
      this.worker.postMessage({ type: 'run', id, image: inputs.image, edge: inputs.edge, width, height, batch });
    }).finally(() => {
      if (this.pending.size === 0 && !this.closing) this.worker.unref();
    });
  }

  /** Settles every run in flight with `error` now, whatever the worker still sends. */
  rejectPending(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  /**
   * Asks the worker to finish its current run, release the session and exit. Not worker.terminate(): tearing
   * the worker down inside session.run aborted the whole process ("terminate called after throwing an
   * instance of 'Napi::Error'", from onnxruntime-node's binding). terminate() stays as a last resort.
   */
  async close(): Promise<void> {
    this.closing = true;
    if (this.exited) return;
    this.worker.ref();
    const gone = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ type: 'close' });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_TIMEOUT_MS)));
    if ((await Promise.race([gone, late])) === 'late') await this.worker.terminate();
    clearTimeout(timer);
  }

  private settle(msg: Extract<WorkerReply, { type: 'result' }>): void {
    const p = this.pending.get(msg.id);
    this.pending.delete(msg.id);
    if (!p) return;
    const { width, height } = this.spec;
    if (msg.error !== undefined) p.reject(new MmaerecError('E_INFER', `onnxruntime run failed (${printable(msg.error, 240)}): check the bundle and inputs`));
    else if (this.spec.featureDistanceOnly) {
      if (msg.featureDistance?.length) p.resolve(msg.featureDistance);
      else p.reject(new MmaerecError('E_INFER', 'onnxruntime returned no "featureDistance" output from the feature-bank graph: recreate the bundle with this SDK'));
    } else if (!msg.recon || msg.recon.length !== p.batch * 3 * width * height) {
      p.reject(new MmaerecError('E_INFER', `onnxruntime returned no ${p.batch}×3×${height}×${width} "recon" output: recreate the bundle with this SDK`));
    } else p.resolve(msg.featureDistance ? { recon: msg.recon, featureDistance: msg.featureDistance } : msg.recon);
  }

  private onExit(code: number): Error | undefined {
    this.exited = true;
    if (this.closing) return undefined;
    // Exited on its own (without an 'error' event): fail the runs in flight and every later run, instead of
    // leaving them pending on a worker that will never answer.
    this.dead ??= new Error(`the worker thread exited with code ${code}`);
    const error = new MmaerecError('E_INFER', `onnxruntime worker failed (${this.dead.message}): create a new back end`);
    this.rejectPending(error);
    return error;
  }

  private onError(err: Error): void {
    this.dead = err;
    this.rejectPending(new MmaerecError('E_INFER', `onnxruntime worker failed (${err.message}): create a new back end`));
  }
}

/**
 * One session-creation failure ("cpu: Load model from /b/model.onnx failed:Protobuf parsing failed.") as its
 * cause ("cpu: Protobuf parsing failed"): the path is already in the message, and ONNX Runtime's messages can
 * quote names from the file, so they are escaped and cut short.
 */
export function loadFailure(failure: string, onnxPath: string): string {
  const cause = failure
    .replace(`Load model from ${onnxPath} failed:`, '')
    .replace(/^(\w+(?:,\w+)*: )?Load model from .* failed:/, '$1')
    .replace(/\[ONNXRuntimeError\] : \d+ : \w+ : /, '')
    .replace(/\.\s*$/, '');
  return printable(cause, 240);
}

/**
 * The host's Node flags a worker may take: the loaders (`--import tsx`, …) yes; `--input-type` no (the worker
 * source is CommonJS); V8's heap and stack sizes no — they are per process, and a Worker given them refuses to
 * start (ERR_WORKER_INVALID_EXEC_ARGV: `node --max-old-space-size=768 … inspect` could not inspect at all).
 */
export function workerExecArgv(execArgv: readonly string[]): string[] {
  const perProcess = /^--(input-type|max-old-space-size|max-semi-space-size|max-young-generation-size|stack-size|max_old_space_size|max_semi_space_size)(=|$)/;
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (!perProcess.test(a)) out.push(a);
    else if (!a.includes('=') && execArgv[i + 1] !== undefined && !execArgv[i + 1]!.startsWith('-')) i++; // its value
  }
  return out;
}
