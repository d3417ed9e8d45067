import { MmaerecError } from '../errors.js';
import type { InferenceBackend, InferenceInputs, InferenceOutputs } from './backend.js';

interface Waiting {
  inputs: InferenceInputs;
  resolve: (out: Float32Array | InferenceOutputs) => void;
  reject: (err: unknown) => void;
}

interface Port {
  id: string;
  queue: Waiting[];
}

/** What the batches looked like so far (bench and metrics). */
export interface BatchStats {
  runs: number;
  frames: number;
  /** runs by batch size: bySize[n] = runs of n frames. */
  bySize: number[];
}

/**
 * One back end serving the cameras of a cell. Each camera infers through its own port (an InferenceBackend for
 * its Inspector). Whenever the back end can take a run (one per session), the frames waiting are taken
 * round-robin across ports, one per camera per turn, up to `maxBatch`, and inferred in one run when the back end
 * batches (`runBatch`). So frames of different cameras share an inference, a camera that floods cannot fill a
 * batch while another waits (one frame per camera per turn; each port holds at most sessions × maxBatch frames,
 * its Inspector's inference lane), and a stalled camera only leaves the batch smaller. Nothing waits for a batch to fill: an idle back end runs what
 * there is, so batching adds no latency when the cameras are slower than the model.
 */
export class SharedBackend {
  readonly maxBatch: number;
  private readonly ports: Port[] = [];
  private readonly lanes: number;
  private running = 0;
  private next = 0;
  private disposed = false;
  private readonly counts: BatchStats = { runs: 0, frames: 0, bySize: [] };

  constructor(
    readonly inner: InferenceBackend,
    options: { maxBatch?: number; onBatch?: (size: number) => void } = {},
  ) {
    this.maxBatch = inner.runBatch ? Math.max(1, Math.min(options.maxBatch ?? inner.maxBatch ?? 1, inner.maxBatch ?? 1)) : 1;
    this.lanes = inner.concurrency ?? 1;
    this.onBatch = options.onBatch;
  }

  private readonly onBatch: ((size: number) => void) | undefined;

  /** The back end as one camera sees it; ids must differ. */
  port(id: string): InferenceBackend {
    if (this.ports.some((p) => p.id === id)) throw new RangeError(`Expected a new port id but "${id}" is taken`);
    const port: Port = { id, queue: [] };
    this.ports.push(port);
    const { name, width, height } = this.inner;
    return {
      name, width, height,
      // A camera may have a batch's worth of frames waiting per session: when the back end frees, a batch then
      // fills from what is prepared, instead of leaving with the one frame that happened to be ready.
      concurrency: this.lanes * this.maxBatch,
      run: (inputs) => this.enqueue(port, inputs),
      // The shared back end is released by its owner (SharedBackend.dispose), not by one camera's Inspector.
      dispose: async () => undefined,
    };
  }

  stats(): BatchStats {
    return { runs: this.counts.runs, frames: this.counts.frames, bySize: [...this.counts.bySize] };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const error = new MmaerecError('E_INFER', 'the shared back end was disposed while frames waited: wait for frames before dispose()');
    for (const p of this.ports) for (const w of p.queue.splice(0)) w.reject(error);
    await this.inner.dispose();
  }

  private enqueue(port: Port, inputs: InferenceInputs): Promise<Float32Array | InferenceOutputs> {
    if (this.disposed) return Promise.reject(new MmaerecError('E_INFER', `${this.inner.name} back end used after dispose(): create a new back end`));
    return new Promise<Float32Array | InferenceOutputs>((resolve, reject) => {
      port.queue.push({ inputs, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.lanes) {
      const batch = this.take();
      if (batch.length === 0) return;
      this.running += 1;
      void this.execute(batch).finally(() => {
        this.running -= 1;
        this.pump();
      });
    }
  }

  /** Up to maxBatch waiting frames, one per port per turn, starting after the port served first last time. */
  private take(): Waiting[] {
    const out: Waiting[] = [];
    const n = this.ports.length;
    let empty = 0;
    while (out.length < this.maxBatch && empty < n) {
      const port = this.ports[this.next]!;
      this.next = (this.next + 1) % n;
      const w = port.queue.shift();
      if (w) {
        out.push(w);
        empty = 0;
      } else empty += 1;
    }
    return out;
  }

  private async execute(batch: Waiting[]): Promise<void> {
    this.counts.runs += 1;
    this.counts.frames += batch.length;
    this.counts.bySize[batch.length] = (this.counts.bySize[batch.length] ?? 0) + 1;
    this.onBatch?.(batch.length);
    try {
      const recons = batch.length > 1 && this.inner.runBatch
        ? await this.inner.runBatch(batch.map((w) => w.inputs))
        : [await this.inner.run(batch[0]!.inputs)];
      batch.forEach((w, i) => w.resolve(recons[i]!));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}
