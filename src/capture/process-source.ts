import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { Backoff, type BackoffOptions } from '../util/backoff.js';
import { QueuedSource, type QueuedSourceOptions } from './source.js';

export interface ProcessSourceOptions extends QueuedSourceOptions {
  /** Size of the frames the process writes (it scales to this size). */
  width: number;
  height: number;
  /** Restart the process when it exits or stalls. Default: true for live inputs, false for files. */
  restart?: boolean;
  /** Backoff between restarts (jittered exponential). */
  backoff?: BackoffOptions;
  /** Give up after this many restarts in a row without a frame in between (default: never). */
  maxRestarts?: number;
  /** No frame for this long while running → the process is killed and restarted (0 = off; default 10 000 ms). */
  stallTimeoutMs?: number;
  /** Patience for the first frame after a (re)start: connecting to a camera takes longer (default max(stallTimeoutMs, 30 000)). */
  firstFrameTimeoutMs?: number;
  /** Frame id prefix (default: the source kind). */
  idPrefix?: string;
}

/** Whether `exe` can be started here (probed with a flag that makes it print its version and exit). */
export function executableRuns(exe: string, versionFlag: string): boolean {
  return !spawnSync(exe, [versionFlag], { stdio: 'ignore' }).error;
}

/** How a subclass launches its capture process. */
export interface CaptureCommand {
  file: string;
  args: string[];
}

/**
 * A capture child process that writes raw RGB24 frames of a fixed size to stdout (ffmpeg, gst-launch).
 * The process is restarted with jittered exponential backoff when it dies or stalls; every exit, stall and
 * restart is reported as an event and counted, so the pipeline never stalls silently.
 */
export abstract class ProcessSource extends QueuedSource {
  protected readonly width: number;
  protected readonly height: number;
  private readonly restartEnabled: boolean;
  private readonly backoff: Backoff;
  private readonly maxRestarts: number;
  private readonly stallTimeoutMs: number;
  private readonly firstFrameTimeoutMs: number;
  private readonly idPrefix: string;
  private child: ChildProcessByStdio<null, Readable, Readable> | undefined;
  private sequence = 0;

  constructor(options: ProcessSourceOptions, live: boolean, kind: string) {
    super(options, live ? 'drop-oldest' : 'block');
    for (const key of ['width', 'height'] as const) {
      const v = options[key];
      if (!Number.isInteger(v) || v <= 0) throw new TypeError(`Expected a positive integer for ${key} but received ${String(v)}`);
    }
    this.width = options.width;
    this.height = options.height;
    this.restartEnabled = options.restart ?? live;
    this.backoff = new Backoff(options.backoff);
    this.maxRestarts = options.maxRestarts ?? Infinity;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 10_000;
    this.firstFrameTimeoutMs = options.firstFrameTimeoutMs ?? Math.max(this.stallTimeoutMs, 30_000);
    this.idPrefix = options.idPrefix ?? kind;
  }

  protected abstract command(): CaptureCommand;

  /** The running capture process's pid (for diagnostics and tests), if any. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  protected async produce(): Promise<void> {
    let failuresInARow = 0;
    while (!this.stopping) {
      const { frames, code, signal, stderr, spawnError } = await this.runOnce();
      if (this.stopping) return;
      this.report({ type: 'exit', source: this.name, code, signal, stderr });
      if (frames > 0) {
        failuresInARow = 0;
        this.backoff.reset();
      }
      const clean = code === 0 && !spawnError;
      if (!this.restartEnabled) {
        if (!clean) this.reportError(`${this.name}: capture process failed (${describeExit(code, signal, spawnError ?? stderr)}): check the input and the command`);
        return;
      }
      failuresInARow += 1;
      if (failuresInARow > this.maxRestarts) {
        this.reportError(`${this.name}: gave up after ${this.maxRestarts} restarts without a frame (${describeExit(code, signal, spawnError ?? stderr)}): check the camera and its URL`);
        return;
      }
      const delayMs = this.backoff.next();
      this.counters.restarts += 1;
      this.report({ type: 'restart', source: this.name, attempt: this.counters.restarts, delayMs, reason: describeExit(code, signal, spawnError ?? stderr) });
      await this.sleep(delayMs);
    }
  }

  protected interrupt(): void {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      t.unref();
      child.once('exit', () => clearTimeout(t));
    }
    this.wake?.();
  }

  private async runOnce(): Promise<{ frames: number; code: number | null; signal: string | null; stderr: string; spawnError?: string }> {
    const { file, args } = this.command();
    const frameBytes = this.width * this.height * 3;
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000); // the tail says why it died
    });
    let spawnError: string | undefined;
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      child.once('error', (err) => {
        spawnError = err.message;
        resolve({ code: null, signal: null });
      });
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    let lastFrameAt = Date.now();
    let frames = 0;
    // While a frame waits for room in a `block` queue the process is (rightly) blocked on the pipe: not a stall.
    let waitingForQueue = false;
    const watchdog =
      this.stallTimeoutMs > 0
        ? setInterval(() => {
            const silentMs = Date.now() - lastFrameAt;
            const patience = frames === 0 ? this.firstFrameTimeoutMs : this.stallTimeoutMs;
            if (!waitingForQueue && silentMs >= patience && child.exitCode === null) {
              this.report({ type: 'stall', source: this.name, silentMs });
              child.kill('SIGKILL');
            }
          }, Math.max(50, Math.min(1000, this.stallTimeoutMs / 4)))
        : undefined;
    let buffer = Buffer.allocUnsafe(frameBytes);
    let filled = 0;
    try {
      for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
        let offset = 0;
        while (offset < chunk.length) {
          const n = Math.min(frameBytes - filled, chunk.length - offset);
          chunk.copy(buffer, filled, offset, offset + n);
          filled += n;
          offset += n;
          if (filled === frameBytes) {
            lastFrameAt = Date.now();
            frames += 1;
            const data = new Uint8Array(buffer.buffer, buffer.byteOffset, frameBytes);
            buffer = Buffer.allocUnsafe(frameBytes);
            filled = 0;
            // Awaiting the queue here pauses stdout under `block` (the process then waits on the pipe).
            waitingForQueue = true;
            await this.emitFrame({
              id: `${this.idPrefix}-${++this.sequence}`,
              capturedAt: lastFrameAt,
              image: { width: this.width, height: this.height, channels: 3, data },
              origin: this.name,
            });
            waitingForQueue = false;
            lastFrameAt = Date.now();
            if (this.stopping) break;
          }
        }
        if (this.stopping) break;
      }
    } catch {
      // stdout errored because the process died: the exit status below says why
    }
    if (this.stopping) this.interrupt();
    const { code, signal } = await exited;
    if (watchdog) clearInterval(watchdog);
    this.child = undefined;
    if (filled > 0 && !this.stopping) {
      this.reportError(`${this.name}: discarded a partial frame of ${filled} of ${frameBytes} bytes at process exit: expected when a stream is cut`);
    }
    return { frames, code, signal, stderr: stderr.trim(), spawnError };
  }
}

function describeExit(code: number | null, signal: string | null, detail: string): string {
  const how = signal ? `killed by ${signal}` : code === null ? 'did not start' : `exit code ${code}`;
  const last = detail.split('\n').filter(Boolean).pop();
  return last ? `${how}: ${last.slice(0, 200)}` : how;
}
