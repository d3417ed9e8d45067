import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { PipelineRecord } from '../decide/result.js';
import { MmaerecError } from '../errors.js';
import type { ModelEventBody } from './events.js';
import { DIR_MODE, FILE_MODE, mkdirPrivate, openAppendPrivate, parseMode } from '../util/files.js';
import type { Sink } from './sink.js';

/** How heatmap bytes appear in a JSON record: left out (format, size, path kept) or base64 inline. */
export type HeatmapInJson = 'omit' | 'inline';

/**
 * A record as a plain JSON object: every field of the record; heatmap bytes become `bytes` (their count) and,
 * with `inline`, `base64`. Non-finite numbers (which JSON cannot hold) become strings ("NaN", "Infinity").
 */
export function recordToJson(record: PipelineRecord, heatmaps: HeatmapInJson = 'omit'): Record<string, unknown> {
  if (record.kind !== 'inspection' || !record.heatmap) return { ...record };
  const { data, ...rest } = record.heatmap;
  const heatmap: Record<string, unknown> = { ...rest, bytes: data.byteLength };
  if (heatmaps === 'inline') heatmap.base64 = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
  return { ...record, heatmap };
}

/** One JSON line (no trailing newline). */
export function recordToLine(record: PipelineRecord, heatmaps: HeatmapInJson = 'omit'): string {
  return JSON.stringify(recordToJson(record, heatmaps), (_k, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
  );
}

/**
 * A model swap outcome as one JSON line (no trailing newline): `kind: "model"` beside the records' "inspection" and
 * "error", then the body of its mmaerec.model/1 event (outcome, trigger, candidate, inService, reason, shadow, at).
 * The event's id, line and station are the MQTT sink's; a file next to the records needs none of them.
 */
export function modelEventToLine(event: ModelEventBody): string {
  return JSON.stringify({ kind: 'model', ...event });
}

export interface JsonlSinkOptions {
  /** File to append to (created with its folder if missing). */
  path: string;
  heatmaps?: HeatmapInJson;
  /** fsync on flush() (default true): a result that flush() acknowledged survives a power cut. */
  fsync?: boolean;
  /** Mode of the file when the sink creates it (default 0o600, whatever the umask); an existing file keeps its own. */
  fileMode?: number | string;
  /** Mode of the folders the sink creates for it (default 0o700). */
  dirMode?: number | string;
}

/**
 * Appends one JSON line per record. `write` resolves when the line is written to the file (in call order);
 * `flush` additionally fsyncs. Lines are written whole with one write(2) each, so a reader tailing the file
 * never sees half a record from this process.
 */
export class JsonlSink implements Sink {
  readonly name: string;
  private readonly options: Required<Omit<JsonlSinkOptions, 'fileMode' | 'dirMode'>>;
  private readonly fileMode: number;
  private readonly dirMode: number;
  private handle: Promise<FileHandle> | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(options: JsonlSinkOptions) {
    if (typeof options?.path !== 'string' || !options.path) throw new TypeError('Expected a file path for path');
    const { fileMode, dirMode, ...rest } = options;
    this.options = { heatmaps: 'omit', fsync: true, ...rest };
    this.fileMode = fileMode === undefined ? FILE_MODE : parseMode(fileMode, 'jsonl.fileMode', 'file');
    this.dirMode = dirMode === undefined ? DIR_MODE : parseMode(dirMode, 'jsonl.dirMode', 'dir');
    this.name = `jsonl:${options.path}`;
  }

  private file(): Promise<FileHandle> {
    this.handle ??= (async () => {
      try {
        await mkdirPrivate(path.dirname(path.resolve(this.options.path)), this.dirMode);
        return (await openAppendPrivate(this.options.path, this.fileMode)).fh;
      } catch (err) {
        throw new MmaerecError('E_IO', `cannot open ${this.options.path} for appending (${(err as Error).message}): check the folder and permissions`, { cause: err });
      }
    })();
    return this.handle;
  }

  write(record: PipelineRecord): Promise<void> {
    return this.append(recordToLine(record, this.options.heatmaps));
  }

  /** A model swap outcome, as a line among the records (modelEventToLine), so the file shows which bundle judged which frames. */
  announce(event: ModelEventBody): Promise<void> {
    return this.append(modelEventToLine(event));
  }

  private append(text: string): Promise<void> {
    if (this.closed) return Promise.reject(new MmaerecError('E_IO', `${this.name}: write after close: close sinks only after the last record`));
    const line = text + '\n';
    const done = this.chain.then(async () => {
      const fh = await this.file();
      await fh.write(line);
    });
    this.chain = done.catch(() => undefined); // one failed write must not block the ones after it
    return done;
  }

  async flush(): Promise<void> {
    await this.chain;
    if (this.options.fsync && this.handle) await (await this.handle).sync();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    if (this.handle) await (await this.handle).close();
  }
}
