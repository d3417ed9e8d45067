import type { Writable } from 'node:stream';
import type { PipelineRecord } from '../decide/result.js';
import type { ModelEventBody } from './events.js';
import { modelEventToLine, recordToLine, type HeatmapInJson } from './jsonl-sink.js';
import type { Sink } from './sink.js';
import { formatBox, formatScore } from '../util/format.js';

export interface StdoutSinkOptions {
  /** `json`: one JSON line per record; `text`: one human-readable line (default `json`). */
  format?: 'json' | 'text';
  heatmaps?: HeatmapInJson;
  /** Where to write (default process.stdout). */
  stream?: Writable;
}

/** One human-readable line: verdict, frame, score vs threshold, regions, latency — or the error. */
export function recordToText(record: PipelineRecord): string {
  if (record.kind === 'error') return `ERROR  ${record.frameId}  ${record.code}: ${record.message}`;
  const worst = record.regions[0];
  const where = worst ? `  worst ${formatBox(worst)}` : '';
  return (
    `${record.verdict === 'defect' ? 'DEFECT' : 'ok    '} ${record.frameId}  score ${formatScore(record.score)} ` +
    `(threshold ${formatScore(record.imageThreshold)})  regions ${record.regions.length}${where}  ${record.latency.totalMs.toFixed(1)} ms` +
    (record.heatmap?.path ? `  heatmap ${record.heatmap.path}` : '') +
    (record.warnings ?? []).map((w) => `  warning: ${w.message}`).join('')
  );
}

/** One human-readable line for a model swap outcome: what was swapped in, or what was refused and why. */
export function modelEventToText(event: ModelEventBody): string {
  const named = (b: { bundleName?: string; bundleSha256?: string } | undefined) =>
    b?.bundleName ? `${b.bundleName}${b.bundleSha256 ? ` (${b.bundleSha256.slice(0, 12)})` : ''}` : 'none';
  const shadow = event.shadow ? `  shadow ${event.shadow.frames} frames, ${(event.shadow.agreement * 100).toFixed(0)} % agreed` : '';
  return event.outcome === 'swapped'
    ? `MODEL  swapped ${named(event.candidate)} from ${event.candidate.path} (${event.trigger})${shadow}`
    : `MODEL  refused ${event.candidate.path} (${event.trigger}): ${event.reason ?? 'no reason given'}${shadow}  in service: ${named(event.inService)}`;
}

/** Records on stdout (logs go to stderr, so stdout stays a clean data stream for pipes). */
export class StdoutSink implements Sink {
  readonly name = 'stdout';
  private readonly stream: Writable;
  private readonly format: 'json' | 'text';
  private readonly heatmaps: HeatmapInJson;

  constructor(options: StdoutSinkOptions = {}) {
    this.stream = options.stream ?? process.stdout;
    this.format = options.format ?? 'json';
    this.heatmaps = options.heatmaps ?? 'omit';
  }

  write(record: PipelineRecord): Promise<void> {
    return this.print(this.format === 'text' ? recordToText(record) : recordToLine(record, this.heatmaps));
  }

  /** A model swap outcome, among the records: `{"kind":"model", …}` in json, a MODEL line in text. */
  announce(event: ModelEventBody): Promise<void> {
    return this.print(this.format === 'text' ? modelEventToText(event) : modelEventToLine(event));
  }

  private print(text: string): Promise<void> {
    const line = text + '\n';
    return new Promise((resolve, reject) => {
      this.stream.write(line, (err) => (err ? reject(err) : resolve()));
    });
  }

  flush(): Promise<void> {
    // Resolves once everything written so far has been handed to the OS (write callbacks run in order).
    return new Promise((resolve, reject) => this.stream.write('', (err) => (err ? reject(err) : resolve())));
  }

  async close(): Promise<void> {
    await this.flush(); // never end process.stdout: the host application may still use it
  }
}
