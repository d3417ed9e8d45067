import type { Frame } from '../capture/frame.js';
import { errorRecordFor, type PipelineRecord } from '../decide/result.js';
import { MmaerecError, isMmaerecError } from '../errors.js';
import { loadBundle } from '../model/bundle.js';
import type { ModelEventBody } from '../publish/events.js';
import type { RunLogger } from './runner.js';
import { ServedModel, type CameraView, type ServeOptions } from './served-model.js';

/** A candidate bundle: a folder on this device, and optionally the sha256 its manifest.json must have. */
export interface SwapRequest {
  path: string;
  sha256?: string;
  trigger: ModelEventBody['trigger'];
}

export interface ModelSwitchOptions {
  cameras: readonly CameraView[];
  serve: ServeOptions;
  /** Recent frames per camera the candidate is compared on before a swap (0: no shadow comparison). */
  shadowFrames?: number;
  /** Fraction of shadow frames whose verdict must match the model in service (default 1). */
  minAgreement?: number;
  /** Bundle missing/tampered at start: 'exit' throws; 'report' gives E_BUNDLE records and retries (default). */
  onBundleError?: 'exit' | 'report';
  retryS?: number;
  logger?: RunLogger;
  /** Receives each swap outcome (the sinks' announce). */
  announce?: (event: ModelEventBody) => Promise<void> | void;
  now?: () => number;
}

interface Seen {
  frame: Frame;
  verdict: 'ok' | 'defect';
}

/**
 * The model in service for every camera, replaced while frames flow. A candidate is loaded and verified aside
 * (manifest schema and every file's sha256, the expected manifest sha256 when given, a warm-up inspection, and
 * optionally a shadow comparison on each camera's last frames), then swapped in with one assignment: a frame
 * already handed to the old model finishes on it, every later frame goes to the new one, so no frame is lost or
 * inspected twice. The old model is released once its frames are done. A refused candidate changes nothing.
 */
export class ModelSwitch {
  private served: ServedModel | undefined;
  private lastError: MmaerecError | undefined;
  private nextAttempt = 0;
  private loading: Promise<void> | undefined;
  private proposals: Promise<unknown> = Promise.resolve();
  private readonly retiring = new Set<Promise<void>>();
  private readonly recent = new Map<string, Seen[]>();
  private readonly keep: number;
  private readonly now: () => number;
  private closed = false;

  private constructor(private readonly dir: string, private readonly options: ModelSwitchOptions) {
    this.keep = Math.max(1, options.shadowFrames ?? 0);
    this.now = options.now ?? Date.now;
    for (const c of options.cameras) this.recent.set(c.id, []);
  }

  /** Loads `dir` for every camera; see ModelSwitchOptions.onBundleError for a bundle that does not load. */
  static async start(dir: string, options: ModelSwitchOptions): Promise<ModelSwitch> {
    const s = new ModelSwitch(dir, options);
    if (options.onBundleError === 'exit') s.served = await ServedModel.load(dir, options.cameras, options.serve);
    else await s.attemptStart();
    return s;
  }

  /** The model in service (undefined while the bundle of the config does not load). */
  get current(): ServedModel | undefined {
    return this.served;
  }

  /** The inspector one camera's pipeline calls: whichever model is in service when the frame arrives. */
  lane(camera: string): { inspectRecord(frame: Frame): Promise<PipelineRecord> } {
    if (!this.recent.has(camera)) throw new RangeError(`Expected a camera of this cell but received "${camera}"`);
    return { inspectRecord: (frame) => this.inspect(camera, frame) };
  }

  /** Verifies `request` and swaps it in, or refuses it; resolves with the outcome (also announced). Serialised. */
  propose(request: SwapRequest): Promise<ModelEventBody> {
    const next = this.proposals.then(() => this.tryCandidate(request));
    this.proposals = next.catch(() => undefined);
    return next;
  }

  /** Waits for proposals and frames in flight, then releases every model. */
  async close(): Promise<void> {
    this.closed = true;
    await this.proposals;
    await this.loading;
    await Promise.allSettled([...this.retiring]);
    await this.served?.close();
  }

  private async inspect(camera: string, frame: Frame): Promise<PipelineRecord> {
    if (!this.served && this.now() >= this.nextAttempt && !this.closed) {
      this.loading ??= this.attemptStart().finally(() => (this.loading = undefined));
      await this.loading;
    }
    const served = this.served;
    if (!served) return errorRecordFor(frame, this.lastError?.code ?? 'E_BUNDLE', `not inspected: ${this.lastError?.message ?? 'the bundle is not loaded'}`);
    const record = await served.inspector(camera).inspectRecord(frame);
    if (record.kind === 'inspection') {
      const seen = this.recent.get(camera)!;
      seen.push({ frame, verdict: record.verdict });
      if (seen.length > this.keep) seen.shift();
    }
    return record;
  }

  /** The config's bundle, at start and every retryS while it does not load (report mode). */
  private async attemptStart(): Promise<void> {
    this.nextAttempt = this.now() + (this.options.retryS ?? 10) * 1000;
    try {
      this.served = await ServedModel.load(this.dir, this.options.cameras, this.options.serve);
      if (this.lastError) this.options.logger?.info({ bundle: this.served.provenance }, 'bundle loaded: inspecting again');
      this.lastError = undefined;
    } catch (err) {
      if (!isMmaerecError(err) || err.code !== 'E_BUNDLE') {
        if (!this.lastError) throw err;
        this.lastError = err as MmaerecError;
        return;
      }
      if (this.lastError?.message !== err.message) {
        this.options.logger?.error({ bundle: this.dir, retryS: this.options.retryS ?? 10 }, `${err.message} (frames get E_BUNDLE error records until it loads)`);
      }
      this.lastError = err;
    }
  }

  private async tryCandidate(request: SwapRequest): Promise<ModelEventBody> {
    const at = (): string => new Date().toISOString();
    const inService = (): ModelEventBody['inService'] => this.served && { bundleName: this.served.provenance.bundleName, bundleSha256: this.served.provenance.bundleSha256 };
    const candidateRef: ModelEventBody['candidate'] = { path: request.path };
    let candidate: ServedModel | undefined;
    let outcome: ModelEventBody;
    try {
      const bundle = await loadBundle(request.path);
      Object.assign(candidateRef, { bundleName: bundle.manifest.name, bundleSha256: bundle.sha256 });
      if (request.sha256 !== undefined && request.sha256.toLowerCase() !== bundle.sha256) {
        throw new MmaerecError('E_BUNDLE', `${request.path}: manifest.json has sha256 ${bundle.sha256}, not the ${request.sha256} the command named: send the sha256 of the bundle's manifest.json (sha256sum manifest.json)`);
      }
      if (this.closed) throw new MmaerecError('E_INPUT', 'the run is stopping: send the bundle again after the restart');
      candidate = await ServedModel.load(bundle, this.options.cameras, this.options.serve);
      await this.warmUp(candidate);
      const shadow = await this.shadow(candidate);
      const old = this.served;
      this.served = candidate; // between two frames: every frame from now on goes to the candidate
      candidate = undefined;
      if (old) this.retire(old);
      outcome = { at: at(), outcome: 'swapped', trigger: request.trigger, candidate: candidateRef, inService: inService(), ...(shadow ? { shadow } : {}) };
      this.options.logger?.info({ bundle: this.served.provenance, path: request.path, shadow }, 'model swapped: the new bundle inspects every frame from now on');
    } catch (err) {
      await candidate?.close().catch(() => undefined);
      const reason = err instanceof Error ? err.message.split('\n')[0]! : String(err);
      outcome = { at: at(), outcome: 'refused', trigger: request.trigger, candidate: candidateRef, inService: inService(), reason };
      this.options.logger?.error({ path: request.path, inService: outcome.inService }, `model candidate refused, the model in service keeps running: ${reason}`);
    }
    if (!outcome.inService) delete outcome.inService;
    await this.options.announce?.(outcome);
    return outcome;
  }

  /** One inspection per camera on its latest frame (or a grey frame holding its ROI before any): it must give a verdict. */
  private async warmUp(candidate: ServedModel): Promise<void> {
    const input = candidate.bundle.manifest.input;
    for (const { id, roi } of this.options.cameras) {
      const last = this.recent.get(id)!.at(-1)?.frame;
      const width = Math.max(input.width, roi ? roi.x + roi.width : 0);
      const height = Math.max(input.height, roi ? roi.y + roi.height : 0);
      const frame: Frame = last ?? { id: 'warm-up', capturedAt: Date.now(), image: { width, height, channels: 3, data: new Uint8Array(width * height * 3).fill(128) } };
      const record = await candidate.inspector(id).inspectRecord(frame);
      if (record.kind === 'error') throw new MmaerecError('E_BUNDLE', `warm-up on camera ${id} failed (${record.code}: ${record.message}): fix the bundle`);
    }
  }

  /** Verdict agreement with the model in service on the cameras' recent frames; refuses below minAgreement. */
  private async shadow(candidate: ServedModel): Promise<ModelEventBody['shadow']> {
    if (!(this.options.shadowFrames ?? 0) || !this.served) return undefined;
    let frames = 0;
    let same = 0;
    for (const [camera, seen] of this.recent) {
      for (const s of [...seen]) {
        const r = await candidate.inspector(camera).inspectRecord(s.frame);
        frames += 1;
        if (r.kind === 'inspection' && r.verdict === s.verdict) same += 1;
      }
    }
    if (frames === 0) return undefined;
    const agreement = same / frames;
    const min = this.options.minAgreement ?? 1;
    if (agreement < min) {
      throw new MmaerecError('E_BUNDLE', `shadow comparison: the candidate agreed with the model in service on ${same} of ${frames} recent frames (${(agreement * 100).toFixed(1)} %, below swap.minAgreement ${min}): check its calibration, or lower swap.minAgreement`);
    }
    return { frames, agreement };
  }

  private retire(old: ServedModel): void {
    const p = old.close().catch((err: unknown) => this.options.logger?.error({}, `releasing the previous model failed: ${(err as Error).message}`));
    this.retiring.add(p);
    void p.finally(() => this.retiring.delete(p));
  }
}
