import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { MmaerecError } from '../errors.js';
import { compileGlob, listGlob, type GlobPattern } from './glob.js';
import { QueuedSource, type QueuedSourceOptions } from './source.js';

export interface FilesSourceOptions extends QueuedSourceOptions {
  /** Glob patterns (`*`, `?`, `**`, `{a,b}`, `[..]`) or folders (= every file directly in them). */
  patterns: string | string[];
  /** Keep running and pick up files that appear later (cameras writing into a folder). Default false. */
  watch?: boolean;
  /** In watch mode, also deliver the files present at start (default true). */
  includeExisting?: boolean;
  /** A new file is taken once its size and mtime have not changed for this long (default 150 ms). */
  stableMs?: number;
  /** Rescan interval in watch mode; fs.watch events trigger an earlier scan (default 250 ms). */
  pollMs?: number;
  cwd?: string;
}

interface Pending {
  size: number;
  mtimeMs: number;
  since: number;
}

/**
 * Image files as frames, in sorted path order. Frame id = the path relative to the pattern's base folder;
 * capture time = the file's mtime. In watch mode a file is delivered only when completely written: its
 * size and mtime stay unchanged for `stableMs` (a file renamed into place is complete on arrival and passes
 * the first stable check). Default backpressure `block`: a slow pipeline never loses a file.
 */
export class FilesSource extends QueuedSource {
  readonly name: string;
  private readonly options: Required<Omit<FilesSourceOptions, 'queueCapacity' | 'policy'>>;
  private globs: GlobPattern[] = [];
  private readonly seen = new Set<string>();
  private readonly pending = new Map<string, Pending>();
  private watchers: FSWatcher[] = [];

  constructor(options: FilesSourceOptions) {
    super(options, 'block');
    const patterns = typeof options.patterns === 'string' ? [options.patterns] : options.patterns;
    if (!Array.isArray(patterns) || patterns.length === 0 || patterns.some((p) => typeof p !== 'string' || !p)) {
      throw new TypeError('Expected a non-empty glob pattern or array of patterns for patterns');
    }
    this.options = {
      patterns,
      watch: options.watch ?? false,
      includeExisting: options.includeExisting ?? true,
      stableMs: options.stableMs ?? 150,
      pollMs: options.pollMs ?? 250,
      cwd: options.cwd ?? process.cwd(),
    };
    this.name = `files:${patterns.join(',')}`;
  }

  protected override async prepare(): Promise<void> {
    this.globs = [];
    for (const pattern of this.options.patterns as string[]) {
      const resolved = path.resolve(this.options.cwd, pattern);
      const s = await stat(resolved).catch(() => undefined);
      this.globs.push(compileGlob(s?.isDirectory() ? path.join(resolved, '*') : resolved, this.options.cwd));
    }
    if (!this.options.watch) {
      const any = (await this.scan()).length > 0;
      if (!any) {
        throw new MmaerecError('E_INPUT', `no file matches ${(this.options.patterns as string[]).join(', ')}: check the path or pattern, or use watch mode to wait for files`);
      }
    }
  }

  protected async produce(): Promise<void> {
    const first = await this.scan();
    if (!this.options.watch) {
      for (const file of first) {
        if (this.stopping) return;
        await this.deliver(file);
      }
      return;
    }
    if (this.options.includeExisting) {
      for (const file of first) {
        if (this.stopping) return;
        // A file modified within stableMs may still be being written (a camera started with us): leave it
        // to the stability check of the watch loop, like any new file.
        const s = await stat(file).catch(() => undefined);
        if (s && Date.now() - s.mtimeMs < this.options.stableMs) continue;
        await this.deliver(file);
      }
    } else {
      for (const file of first) this.seen.add(file);
    }
    this.startWatchers();
    try {
      while (!this.stopping) {
        await this.sleep(this.pending.size > 0 ? Math.min(this.options.pollMs, this.options.stableMs / 2) : this.options.pollMs);
        if (this.stopping) break;
        for (const file of await this.completedFiles()) {
          if (this.stopping) break;
          await this.deliver(file);
        }
      }
    } finally {
      // stop() may have run before the watchers existed (while an existing file waited for queue room), and a
      // failed scan ends the loop too: an open fs watcher would keep the process alive.
      this.closeWatchers();
    }
  }

  protected interrupt(): void {
    this.closeWatchers();
    this.wake?.();
  }

  private closeWatchers(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }

  private async scan(): Promise<string[]> {
    const all = new Set<string>();
    for (const g of this.globs) for (const f of await listGlob(g)) all.add(f);
    return [...all].sort();
  }

  /** New files whose size and mtime have been stable for `stableMs`, sorted. */
  private async completedFiles(): Promise<string[]> {
    const now = Date.now();
    const listed = await this.scan();
    const present = new Set(listed);
    for (const f of this.seen) if (!present.has(f)) this.seen.delete(f); // deleted: forget (bounded memory)
    for (const f of this.pending.keys()) if (!present.has(f)) this.pending.delete(f);
    const ready: string[] = [];
    for (const file of listed) {
      if (this.seen.has(file)) continue;
      const s = await stat(file).catch(() => undefined);
      if (!s) continue;
      const prev = this.pending.get(file);
      if (!prev || prev.size !== s.size || prev.mtimeMs !== s.mtimeMs) {
        this.pending.set(file, { size: s.size, mtimeMs: s.mtimeMs, since: now });
        continue;
      }
      if (s.size > 0 && now - prev.since >= this.options.stableMs) {
        this.pending.delete(file);
        ready.push(file);
      }
    }
    return ready;
  }

  private async deliver(file: string): Promise<void> {
    this.seen.add(file);
    let bytes: Buffer;
    let mtimeMs: number;
    try {
      [bytes, { mtimeMs }] = await Promise.all([readFile(file), stat(file)]);
    } catch (err) {
      this.reportError(`cannot read ${file}: ${(err as Error).message}: check permissions`, file);
      return;
    }
    // A folder prefix, not a string prefix: /data/cam must not claim /data/cam2/a.png (its id would be ../cam2/a.png).
    const base = this.globs.find((g) => file.startsWith(g.base.endsWith('/') ? g.base : `${g.base}/`))?.base ?? path.dirname(file);
    await this.emitFrame({
      id: path.relative(base, file).split(path.sep).join('/'),
      capturedAt: Math.round(mtimeMs),
      image: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      origin: file,
    });
  }

  private startWatchers(): void {
    for (const base of new Set(this.globs.map((g) => g.base))) {
      try {
        const w = watch(base, { recursive: this.globs.some((g) => g.base === base && g.maxDepth > 1) }, () => this.wake?.());
        w.on('error', () => undefined); // the folder vanished: polling carries on
        this.watchers.push(w);
      } catch {
        // The folder does not exist yet (a camera may create it): polling picks it up.
      }
    }
  }
}
