import type { Frame } from '../capture/frame.js';
import { errorRecordFor, type PipelineRecord } from '../decide/result.js';
import { isMmaerecError, type MmaerecError } from '../errors.js';
import type { RunLogger } from './runner.js';
import { Inspector, type InspectorOptions } from './inspector.js';

export interface BundleGuardOptions {
  /** Seconds between attempts to load the bundle again while it is missing or tampered (default 10). */
  retryS?: number;
  logger?: RunLogger;
  now?: () => number;
}

/**
 * An inspector for a line that must not go silent: when the bundle is missing, partial or tampered (E_BUNDLE),
 * every frame still gets a record — an E_BUNDLE error record saying why it was not inspected — and the bundle is
 * loaded again every `retryS` seconds (someone copies a good bundle into place; the next frame is inspected).
 * Other failures to create the inspector (back end, config) are thrown as usual.
 */
export class BundleGuard {
  private inspector: Inspector | undefined;
  private lastError: MmaerecError | undefined;
  private nextAttempt = 0;
  private loading: Promise<void> | undefined;
  private readonly retryMs: number;
  private readonly now: () => number;

  private constructor(
    private readonly dir: string,
    private readonly options: InspectorOptions,
    guard: BundleGuardOptions,
  ) {
    this.retryMs = (guard.retryS ?? 10) * 1000;
    this.now = guard.now ?? Date.now;
    this.logger = guard.logger;
  }

  private readonly logger: RunLogger | undefined;

  static async create(dir: string, options: InspectorOptions = {}, guard: BundleGuardOptions = {}): Promise<BundleGuard> {
    const g = new BundleGuard(dir, options, guard);
    await g.attempt();
    return g;
  }

  /** The inspector, once the bundle loaded. */
  get current(): Inspector | undefined {
    return this.inspector;
  }

  private async attempt(): Promise<void> {
    this.nextAttempt = this.now() + this.retryMs;
    try {
      this.inspector = await Inspector.create(this.dir, this.options);
      if (this.lastError) this.logger?.info({ bundle: this.inspector.provenance }, 'bundle loaded: inspecting again');
      this.lastError = undefined;
    } catch (err) {
      if (!isMmaerecError(err) || err.code !== 'E_BUNDLE') throw err;
      if (this.lastError?.message !== err.message) {
        this.logger?.error({ bundle: this.dir, retryS: this.retryMs / 1000 }, `${err.message} (frames get E_BUNDLE error records until it loads)`);
      }
      this.lastError = err;
    }
  }

  async inspectRecord(frame: Frame): Promise<PipelineRecord> {
    if (!this.inspector && this.now() >= this.nextAttempt) {
      this.loading ??= this.attempt()
        .catch((err: unknown) => {
          this.lastError = err as MmaerecError;
        })
        .finally(() => (this.loading = undefined));
      await this.loading;
    }
    if (this.inspector) return this.inspector.inspectRecord(frame);
    return errorRecordFor(frame, this.lastError?.code ?? 'E_BUNDLE', `not inspected: ${this.lastError?.message ?? 'the bundle is not loaded'}`);
  }

  async close(): Promise<void> {
    await this.loading;
    await this.inspector?.close();
  }
}
