import { EventEmitter } from 'node:events';
import type { Frame } from './frame.js';
import { BoundedQueue, type BackpressurePolicy } from './queue.js';

/** Something a source reports besides frames: restarts, exits, unreadable files, drops. */
export type SourceEvent =
  | { type: 'started'; source: string }
  | { type: 'exit'; source: string; code: number | null; signal: string | null; stderr: string }
  | { type: 'restart'; source: string; attempt: number; delayMs: number; reason: string }
  | { type: 'stall'; source: string; silentMs: number }
  | { type: 'drop'; source: string; frameId: string; dropped: number }
  | { type: 'error'; source: string; message: string; origin?: string }
  | { type: 'ended'; source: string };

export interface SourceStats {
  /** Frames put into the queue. */
  produced: number;
  /** Frames discarded by the `drop-oldest` policy. */
  dropped: number;
  /** Times a capture process was restarted. */
  restarts: number;
  /** Errors reported as `error` events (unreadable files, process failures). */
  errors: number;
}

/**
 * A frame source: an async iterator of frames, started and stopped explicitly.
 * Iteration ends after `stop()` (once the frames already queued are taken) or when a finite input is exhausted.
 */
export interface FrameSource extends AsyncIterable<Frame> {
  readonly name: string;
  /** Starts producing; calling it again (even while the first call runs) does nothing more. */
  start(): Promise<void>;
  /** Stops producing; frames already queued are still delivered, then iteration ends. */
  stop(): Promise<void>;
  stats(): SourceStats;
  on(event: 'event', listener: (e: SourceEvent) => void): this;
  off(event: 'event', listener: (e: SourceEvent) => void): this;
}

export interface QueuedSourceOptions {
  /** Frames buffered between capture and the pipeline (default 8). */
  queueCapacity?: number;
  /** Default depends on the source: `block` for files and memory, `drop-oldest` for cameras. */
  policy?: BackpressurePolicy;
}

/**
 * Shared machinery: a bounded queue, counters and events. Subclasses implement `produce()`, which runs
 * until `stopping` is set or the input ends, and call `emitFrame` for every frame.
 */
export abstract class QueuedSource extends EventEmitter implements FrameSource {
  abstract readonly name: string;
  protected readonly queue: BoundedQueue<Frame>;
  protected readonly counters: SourceStats = { produced: 0, dropped: 0, restarts: 0, errors: 0 };
  protected stopping = false;
  /** Cuts the current `sleep` short (a new file event, stop()). */
  protected wake: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  private iterated = false;

  constructor(options: QueuedSourceOptions, defaultPolicy: BackpressurePolicy) {
    super();
    this.queue = new BoundedQueue<Frame>({
      capacity: options.queueCapacity ?? 8,
      policy: options.policy ?? defaultPolicy,
      onDrop: (item) => {
        this.counters.dropped += 1;
        this.report({ type: 'drop', source: this.name, frameId: (item as Frame).id, dropped: this.counters.dropped });
      },
    });
  }

  /** Runs until stopped or the input is exhausted. */
  protected abstract produce(): Promise<void>;

  /** Wakes `produce()` up when `stop()` is called (close watchers, kill processes). */
  protected abstract interrupt(): void;

  /** Idempotent, also while an earlier call is still preparing; a failed start may be retried. */
  start(): Promise<void> {
    this.starting ??= this.begin().catch((err: unknown) => {
      this.starting = undefined;
      throw err;
    });
    return this.starting;
  }

  private async begin(): Promise<void> {
    await this.prepare();
    this.report({ type: 'started', source: this.name });
    this.running = this.produce()
      .catch((err: unknown) => this.reportError(err instanceof Error ? err.message : String(err)))
      .finally(() => {
        this.queue.close();
        this.report({ type: 'ended', source: this.name });
      });
  }

  /** Checks done before `start` resolves (input exists, tool installed); throw MmaerecError to refuse. */
  protected async prepare(): Promise<void> {}

  async stop(): Promise<void> {
    this.stopping = true;
    this.interrupt();
    if (this.running) await this.running;
    this.queue.close();
  }

  stats(): SourceStats {
    return { ...this.counters };
  }

  /** Queue a frame (waits while full under `block`). Returns false if the source is stopping. */
  protected async emitFrame(frame: Frame): Promise<boolean> {
    if (this.queue.isClosed) return false;
    try {
      await this.queue.push(frame);
      this.counters.produced += 1;
      return true;
    } catch {
      return false; // closed while waiting: the consumer has stopped
    }
  }

  protected report(e: SourceEvent): void {
    this.emit('event', e);
  }

  protected reportError(message: string, origin?: string): void {
    this.counters.errors += 1;
    this.emit('event', { type: 'error', source: this.name, message, origin } satisfies SourceEvent);
  }

  [Symbol.asyncIterator](): AsyncIterator<Frame> {
    if (this.iterated) throw new Error(`${this.name}: a source can be iterated once`);
    this.iterated = true;
    return this.queue[Symbol.asyncIterator]();
  }

  /** Waits `ms`, or less when `wake()` is called (polling sources sleep between scans or restarts). */
  protected sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }
}

