/**
 * bench:cell — one model serving 1, 2 and 4 cameras of a cell: total frames/s and per-frame latency, with frames
 * of the cameras batched into one inference (ONNX Runtime batch dimension) and without (maxBatch 1).
 *
 *   npm run bench:cell -- [--preset lite] [--frames 24] [--sources 1,2,4] [--threads 2] [--rounds 2] [--json]
 *
 * A bundle with random weights (speed does not depend on them) in a temp folder; per configuration one
 * ServedModel (one ORT session of `threads` threads, the shared back end) and N in-memory sources, each pushing
 * `frames` raw 320×240 RGB frames as fast as the cell takes them (block policy), through runCell → a no-op sink:
 * the whole path (resize, tensors, edge map, inference, fused score, regions) per camera. Frames/s = all
 * cameras' frames / wall time after a warm-up; latency = inspect start → result (p50/p99, nearest rank) — with
 * N cameras it includes the wait for the shared back end. Configurations alternate within each round (order
 * rotated per round); medians over rounds are reported, with each N's ratio to 1 camera taken per round.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import type { RawImage } from '../src/capture/frame.js';
import { MemorySource } from '../src/capture/memory-source.js';
import type { PipelineRecord } from '../src/decide/result.js';
import { createBundle, writeBundle, type LoadedBundle } from '../src/model/bundle.js';
import { presetConfig } from '../src/model/config.js';
import { percentile } from '../src/observe/summary.js';
import { runCell } from '../src/pipeline/cell.js';
import { ServedModel } from '../src/pipeline/served-model.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const preset = arg('preset', 'lite');
const frames = Number(arg('frames', '24'));
// 1 camera is always measured: every figure is compared with it.
const counts = [...new Set([1, ...arg('sources', '1,2,4').split(',').map(Number)])];
const threads = Number(arg('threads', '2'));
const rounds = Number(arg('rounds', '2'));
const json = process.argv.includes('--json');

interface Setting { sources: number; maxBatch: number }
interface Result { fps: number; p50: number; p99: number; meanBatch: number }

/** A camera's frame: a diagonal pattern that differs per camera and frame (raw RGB, as an ffmpeg source gives). */
function cameraFrame(camera: number, i: number): RawImage {
  const width = 320;
  const height = 240;
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.set([(p + i * 7) % 256, (p / width + camera * 40) % 256, 128], p * 3);
  return { width, height, channels: 3, data };
}

async function measure(bundle: LoadedBundle, s: Setting): Promise<Result> {
  const cams = Array.from({ length: s.sources }, (_, i) => ({ id: `cam${i}` }));
  const served = await ServedModel.load(bundle, cams, { backend: 'onnxruntime', threads, sessions: 1, maxBatch: s.maxBatch });
  try {
    const images = cams.map((_, c) => Array.from({ length: 4 }, (_, i) => cameraFrame(c, i)));
    const pass = async (n: number): Promise<{ seconds: number; records: PipelineRecord[] }> => {
      const sources = cams.map((c) => new MemorySource({ name: c.id, queueCapacity: 4 }));
      for (const src of sources) await src.start();
      const records: PipelineRecord[] = [];
      const sink = { name: 'null', write: async (r: PipelineRecord) => void records.push(r), flush: async () => {}, close: async () => {} };
      const t0 = performance.now();
      const running = runCell({ sinks: [sink], cameras: cams.map((c, i) => ({ id: c.id, source: sources[i]!, inspector: served.inspector(c.id), ids: { camera: c.id }, maxInFlight: 3 })) });
      await Promise.all(sources.map(async (src, c) => {
        for (let i = 0; i < n; i++) await src.push({ id: `f${i}`, capturedAt: Date.now(), image: images[c]![i % 4]! });
        src.end();
      }));
      const stats = await running;
      if (stats.errors) throw new Error(`${stats.errors} frames failed: ${JSON.stringify(records.find((r) => r.kind === 'error'))}`);
      return { seconds: (performance.now() - t0) / 1000, records };
    };
    await pass(3); // warm-up: allocations and ORT's plans for each batch size
    const before = served.shared.stats();
    const { seconds, records } = await pass(frames);
    const after = served.shared.stats();
    const totals = records.flatMap((r) => (r.kind === 'inspection' ? [r.latency.totalMs] : [])).sort((a, b) => a - b);
    return { fps: (frames * s.sources) / seconds, p50: percentile(totals, 50), p99: percentile(totals, 99), meanBatch: (after.frames - before.frames) / (after.runs - before.runs) };
  } finally {
    await served.close();
  }
}

const median = (v: number[]): number => percentile([...v].sort((a, b) => a - b), 50);

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-cell-'));
  try {
    const bundle = await writeBundle(dir, await createBundle({ config: presetConfig(preset), seed: 0, name: `bench-${preset}` }));
    const settings: Setting[] = counts.flatMap((n) => (n === 1 ? [{ sources: 1, maxBatch: 1 }] : [{ sources: n, maxBatch: 1 }, { sources: n, maxBatch: n }]));
    const results = new Map<string, Result[]>();
    const ratios = new Map<string, number[]>();
    const load = [loadavg()[0]!];
    for (let r = 0; r < rounds; r++) {
      const order = settings.map((_, i) => settings[(i + r) % settings.length]!);
      const got = new Map<string, Result>();
      for (const s of order) got.set(key(s), await measure(bundle, s));
      for (const s of settings) {
        results.set(key(s), [...(results.get(key(s)) ?? []), got.get(key(s))!]);
        ratios.set(key(s), [...(ratios.get(key(s)) ?? []), got.get(key(s))!.fps / got.get('1×1')!.fps]);
      }
      load.push(loadavg()[0]!);
    }
    const rows = settings.map((s) => {
      const rs = results.get(key(s))!;
      return { sources: s.sources, maxBatch: s.maxBatch, fps: median(rs.map((x) => x.fps)), perCamera: median(rs.map((x) => x.fps)) / s.sources, p50: median(rs.map((x) => x.p50)), p99: median(rs.map((x) => x.p99)), meanBatch: median(rs.map((x) => x.meanBatch)), vsOne: median(ratios.get(key(s))!) };
    });
    const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load ${load.map((l) => l.toFixed(1)).join('→')}`;
    if (json) {
      process.stdout.write(`${JSON.stringify({ preset, frames, threads, rounds, machine, rows })}\n`);
      return;
    }
    console.log(`bench:cell preset ${preset} (${bundle.manifest.input.width}²), ${frames} frames per camera, ORT 1 session × ${threads} threads, ${rounds} rounds; ${machine}`);
    console.log('| cameras | maxBatch | frames/s (all) | per camera | vs 1 camera | mean batch | latency p50 / p99 ms |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.sources} | ${r.maxBatch} | ${r.fps.toFixed(2)} | ${r.perCamera.toFixed(2)} | ${(r.vsOne * 100).toFixed(1)} % | ${r.meanBatch.toFixed(2)} | ${r.p50.toFixed(0)} / ${r.p99.toFixed(0)} |`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function key(s: Setting): string {
  return `${s.sources}×${s.maxBatch}`;
}

await main();
