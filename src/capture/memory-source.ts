import { MmaerecError } from '../errors.js';
import type { Frame, RawImage } from './frame.js';
import { QueuedSource, type QueuedSourceOptions } from './source.js';

/**
 * A source for host applications that capture frames themselves (a vendor camera SDK, a PLC trigger):
 * they `push` frames, and the pipeline iterates them like any other source. Default policy `block`, so a
 * push waits while the queue is full; choose `drop-oldest` for a live feed.
 */
export class MemorySource extends QueuedSource {
  readonly name: string;
  private sequence = 0;
  private ended = false;

  constructor(options: QueuedSourceOptions & { name?: string } = {}) {
    super(options, 'block');
    this.name = options.name ?? 'memory';
  }

  /**
   * Adds a frame. A bare image gets a sequence id and the current time. Resolves once queued (under
   * `block` this waits for room). Throws E_INPUT after `end()`/`stop()`.
   */
  async push(frame: Frame | Uint8Array | RawImage): Promise<void> {
    if (this.ended || this.stopping) {
      throw new MmaerecError('E_INPUT', `${this.name}: push after end() or stop(): push frames before ending the source`);
    }
    const full: Frame =
      frame instanceof Uint8Array || !('id' in frame)
        ? { id: `${this.name}-${++this.sequence}`, capturedAt: Date.now(), image: frame as Uint8Array | RawImage, origin: this.name }
        : frame;
    if (!(await this.emitFrame(full))) {
      throw new MmaerecError('E_INPUT', `${this.name}: the source was stopped while the frame waited: push before stop()`);
    }
  }

  /** No more frames: iteration ends after those already pushed. */
  end(): void {
    this.ended = true;
    this.wake?.();
  }

  protected async produce(): Promise<void> {
    // Frames arrive through push(); this only waits for end() or stop().
    if (this.ended || this.stopping) return;
    await new Promise<void>((resolve) => (this.wake = resolve));
  }

  protected interrupt(): void {
    this.wake?.();
  }
}
