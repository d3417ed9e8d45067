/** A put waiting for the next write: its encoded record, and the promise to settle once it is on disk. */
export interface PendingPut {
  key: number;
  record: Buffer;
  length: number;
  resolve(key: number): void;
  reject(err: unknown): void;
}

const TOMBSTONE_DELAY_MS = 25;

/**
 * The disk spool's group commit: puts and tombstones (acknowledged keys) queue up while a write is in progress
 * and go out together in the next one, so throughput does not depend on one syscall (or one fsync) per event.
 * Tombstones alone wait up to TOMBSTONE_DELAY_MS for company: acknowledgements come one by one, and a write per
 * acknowledgement would cost more than the publishing itself (a tombstone lost in a crash only means a duplicate
 * after the restart). `commit` writes one batch; it must not throw (it settles the puts itself).
 */
export class WriteLoop {
  private pendingPuts: PendingPut[] = [];
  private pendingDels: number[] = [];
  private tombstoneTimer?: NodeJS.Timeout;
  private writing: Promise<void> | null = null;

  constructor(private readonly commit: (puts: PendingPut[], dels: number[]) => Promise<void>) {}

  put(p: PendingPut): void {
    this.pendingPuts.push(p);
    this.schedule();
  }

  del(key: number): void {
    this.pendingDels.push(key);
    this.scheduleTombstones();
  }

  /** Resolves once everything queued so far (tombstones included) has been written. */
  async drain(): Promise<void> {
    if (this.pendingDels.length) this.schedule();
    while (this.writing) await this.writing;
  }

  /** Stops the tombstone timer (close: drain() then writes what is left). */
  stop(): void {
    clearTimeout(this.tombstoneTimer);
    this.tombstoneTimer = undefined;
  }

  private scheduleTombstones(): void {
    if (this.tombstoneTimer || this.writing) return; // a running write loop picks them up
    this.tombstoneTimer = setTimeout(() => {
      this.tombstoneTimer = undefined;
      this.schedule();
    }, TOMBSTONE_DELAY_MS);
    this.tombstoneTimer.unref();
  }

  private schedule(): void {
    if (this.writing) return;
    this.stop();
    this.writing = this.run().finally(() => {
      this.writing = null;
      if (this.pendingPuts.length || this.pendingDels.length) this.schedule();
    });
  }

  private async run(): Promise<void> {
    while (this.pendingPuts.length || this.pendingDels.length) {
      await this.commit(this.pendingPuts.splice(0), this.pendingDels.splice(0));
    }
  }
}
