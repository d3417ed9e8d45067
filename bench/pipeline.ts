/**
 * bench:pipeline — end-to-end pipeline throughput and latency beside the bare model on the same bundle.
 *
 *   npm run bench:pipeline -- [--presets lite,paper,recipe] [--frames 60] [--rounds 3] [--threads 2] [--sessions 1]
 *                             [--in-flight sessions+2] [--input png|raw] [--json]
 *
 * For each preset: a bundle (random weights: speed does not depend on them) is created in a temp folder; `recipe`
 * is the default training recipe's network (issue 16 item 8): `edge` with the MobileNetV2 backbone at its default
 * taps and a feature bank, fused with α = 1 and normalised per position, as train's export writes it;
 * "bare" runs the back end alone on one fixed preprocessed input, back to back (for α = 1, the feature bank's graph
 * alone, as `inspect` runs it); "pipeline" pushes encoded PNG
 * frames (the magnetic-tile test images when ../shared/datasets is present, else generated ones) through an
 * in-memory source → Inspector → runner, with a no-op sink. `--input raw` feeds the same images as raw RGB
 * already at the model size — what an ffmpeg camera source scaled to the model input delivers — so no decode. With `--sessions S` (S model sessions of `threads`
 * threads each) "bare" keeps S runs in flight, and a second bare figure — one session with S×threads threads,
 * back to back — is measured in the same rounds, so the pipeline is also compared with the best bare setting. Throughput = frames / wall time after a warm-up.
 * Latency = per-frame inspect start → result (p50/p99, nearest rank). The machine is shared, so bare and
 * pipeline alternate in `rounds` rounds (order swapped each round) and the medians over rounds are reported,
 * with the ratio taken per round (both halves of a round saw similar load). "Inspector's own CPU" is the process
 * CPU time per frame of the same pipeline with inference replayed (a back end that returns one recorded output
 * at once): what the Inspector itself costs — preprocessing, scoring, fusion, normalisation, regions — on every
 * thread, without the model. "bare model CPU" is the process CPU time per frame of the bare rounds (ONNX Runtime's
 * threads included); where the model keeps every core busy, bare / (bare + own) bounds pipeline / bare whatever
 * else loads the machine.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Frame } from '../src/capture/frame.js';
import { MemorySource } from '../src/capture/memory-source.js';
import type { PipelineRecord } from '../src/decide/result.js';
import type { InferenceBackend } from '../src/infer/backend.js';
import { createBackend } from '../src/infer/registry.js';
import { createBundle, writeBundle } from '../src/model/bundle.js';
import { DEFAULT_TAPS, presetConfig } from '../src/model/config.js';
import type { FeatureFusion, PositionNorm } from '../src/model/manifest.js';
import { normGrid } from '../src/score/position-norm.js';
import { percentile } from '../src/observe/summary.js';
import { Inspector } from '../src/pipeline/inspector.js';
import { runPipeline } from '../src/pipeline/runner.js';
import { MODEL_RESIZE } from '../src/preprocess/decode.js';
import { prepareFrame } from '../src/preprocess/preprocess.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const presets = arg('presets', 'lite,paper').split(',');
const framesWanted = Number(arg('frames', '60'));
const threads = Number(arg('threads', '2'));
const sessions = Number(arg('sessions', '1'));
const inFlight = Number(arg('in-flight', String(sessions + 2)));
const rounds = Number(arg('rounds', '3'));
const json = process.argv.includes('--json');
const inputKind = arg('input', 'png');
if (inputKind !== 'png' && inputKind !== 'raw') throw new Error(`--input ${inputKind}: use png or raw`);

async function loadFrames(n: number): Promise<{ images: Uint8Array[]; origin: string }> {
  const root = path.resolve(import.meta.dirname, '../../shared/datasets/magnetic_tile/test');
  try {
    const files: string[] = [];
    for (const cls of (await readdir(root)).sort()) for (const f of (await readdir(path.join(root, cls))).sort()) files.push(path.join(root, cls, f));
    if (files.length === 0) throw new Error('empty');
    const step = Math.max(1, Math.floor(files.length / n));
    const picked = files.filter((_, i) => i % step === 0).slice(0, n);
    return { images: await Promise.all(picked.map(async (f) => new Uint8Array(await readFile(f)))), origin: `magnetic_tile test PNGs (${picked.length}, ~240×290 gray)` };
  } catch {
    const images: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const px = new Uint8Array(320 * 240 * 3).map((_, j) => (j * 31 + i * 17) % 256);
      images.push(new Uint8Array(await sharp(px, { raw: { width: 320, height: 240, channels: 3 } }).png().toBuffer()));
    }
    return { images, origin: 'generated 320×240 RGB PNGs' };
  }
}

interface Row { preset: string; inputSize: number; backend: string; bareFps: number; bareP50: number; pipeFps: number; p50: number; p99: number; ratio: number; ownCpuMs: number; bareCpuMs: number; wideFps?: number; wideRatio?: number; stages: Record<string, number> }

const median = (values: number[]): number => percentile([...values].sort((a, b) => a - b), 50);

/**
 * Back-to-back runs, `lanes` of them in flight (one per session), of what `inspect` runs: the feature bank's
 * graph alone where the back end offers it (a fusion with α = 1), else the whole graph.
 */
async function bareRound(backend: Awaited<ReturnType<typeof createBackend>>, inputs: { image: Float32Array; edge: Float32Array }, lanes: number): Promise<{ fps: number; times: number[]; cpuMs: number }> {
  const times: number[] = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (next++ < framesWanted) {
      const t = performance.now();
      await (backend.runFeatureDistance ? backend.runFeatureDistance({ image: inputs.image }) : backend.run(inputs));
      times.push(performance.now() - t);
    }
  }));
  return { fps: framesWanted / ((performance.now() - t0) / 1000), times, cpuMs: cpuMsPerFrameSince(cpu0) };
}

/** Process CPU ms (user + system, all threads) since `start`, per frame of a round. */
function cpuMsPerFrameSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / framesWanted;
}

type FrameImage = Frame['image'];

/** The frames as the pipeline receives them: encoded bytes, or raw RGB at the model size. */
async function asInput(images: Uint8Array[], size: number): Promise<FrameImage[]> {
  if (inputKind === 'png') return images;
  return Promise.all(images.map(async (img) => {
    const data = await sharp(img).resize(size, size, MODEL_RESIZE).removeAlpha().toColourspace('srgb').raw().toBuffer();
    return { data: new Uint8Array(data), width: size, height: size, channels: 3 as const };
  }));
}

async function pipelineRound(inspector: Inspector, images: FrameImage[]): Promise<{ fps: number; records: Extract<PipelineRecord, { kind: 'inspection' }>[] }> {
  const source = new MemorySource({ queueCapacity: 8 });
  await source.start();
  const records: PipelineRecord[] = [];
  const sink = { name: 'null', write: async (r: PipelineRecord) => void records.push(r), flush: async () => {}, close: async () => {} };
  const t0 = performance.now();
  const running = runPipeline({ source, inspector, sinks: [sink], maxInFlight: inFlight });
  for (let i = 0; i < framesWanted; i++) await source.push({ id: `f${i}`, capturedAt: Date.now(), image: images[i % images.length]! });
  source.end();
  const stats = await running;
  const fps = framesWanted / ((performance.now() - t0) / 1000);
  if (stats.errors > 0) throw new Error(`${stats.errors} frames failed: ${JSON.stringify(records.find((r) => r.kind === 'error'))}`);
  return { fps, records: records.filter((r): r is Extract<PipelineRecord, { kind: 'inspection' }> => r.kind === 'inspection') };
}

/** Statistics of the recipe's shape (positive σ, a spread of μ); their values do not change the speed. */
function benchPositionNorm(size: number): PositionNorm {
  const grid = normGrid(size, size);
  const cells = grid.width * grid.height;
  return { grid, mean: Array.from({ length: cells }, (_, i) => 0.1 + (i % 7) * 0.01), std: Array.from({ length: cells }, (_, i) => 0.05 + (i % 5) * 0.01), images: 64 };
}

/**
 * The bundle options of a preset name: a preset as it is, or `recipe` — what `train` exports by default
 * (src/train/trainer.ts resolveModelConfig, src/train/export.ts): `edge` with the nsfwjs MobileNetV2's
 * architecture at DEFAULT_TAPS (random weights here), a feature bank whose distance map alone makes the map (α = 1,
 * the choice on both development sets) and a per-position normalisation.
 */
function benchBundleOptions(preset: string): Parameters<typeof createBundle>[0] {
  if (preset !== 'recipe') return { config: presetConfig(preset), seed: 0, name: `bench-${preset}` };
  const config = presetConfig('edge', { backbone: { arch: 'mobilenet_v2', widthDivisor: 1, taps: [...DEFAULT_TAPS.mobilenet_v2] }, featureBank: {} });
  const size = config.inputSize;
  const featureFusion: FeatureFusion = { alpha: 1, mapScale: 0.5, featureScale: 2, grid: { width: size / 8, height: size / 8 } };
  return { config, seed: 0, name: 'bench-recipe', featureFusion, positionNorm: benchPositionNorm(size) };
}

/** A back end that answers every run at once with one recorded output of the real one (same sizes, same maps). */
async function replayBackend(real: InferenceBackend, inputs: { image: Float32Array; edge: Float32Array }): Promise<InferenceBackend> {
  const recorded = await real.run(inputs);
  const distance = real.runFeatureDistance ? await real.runFeatureDistance({ image: inputs.image }) : undefined;
  return {
    name: `replay of ${real.name}`, width: real.width, height: real.height, run: async () => recorded, dispose: async () => {},
    ...(distance ? { runFeatureDistance: async () => distance } : {}),
  };
}

/** Process CPU ms per frame (user + system, all threads) of the pipeline with inference replayed. */
async function ownCpuPerFrame(inspector: Inspector, images: FrameImage[]): Promise<number> {
  const before = process.cpuUsage();
  await pipelineRound(inspector, images);
  return cpuMsPerFrameSince(before);
}

async function benchPreset(preset: string, images: Uint8Array[]): Promise<Row> {
  const dir = await mkdtemp(path.join(tmpdir(), `bench-pipeline-${preset}-`));
  try {
    const bundle = await writeBundle(dir, await createBundle(benchBundleOptions(preset)));
    const size = bundle.manifest.input.width;
    const warm = Math.max(3, Math.round(framesWanted / 10));
    // Two sessions of the same bundle and thread count: the bare back end and the inspector's.
    const backend = await createBackend(bundle, { backend: 'onnxruntime', threads, sessions });
    const wide = sessions > 1 ? await createBackend(bundle, { backend: 'onnxruntime', threads: threads * sessions }) : undefined;
    const inspector = await Inspector.create(bundle, { backend: 'onnxruntime', threads, sessions });
    const frames = await asInput(images, size);
    const prepared = await prepareFrame({ id: 'x', capturedAt: 0, image: frames[0]! }, size, size);
    const inputs = { image: prepared.image, edge: prepared.edge };
    const replayed = await Inspector.create(bundle, { inferenceBackend: await replayBackend(backend, inputs) });
    const ownCpu: number[] = [];
    const bareCpu: number[] = [];
    for (let i = 0; i < warm; i++) {
      await backend.run(inputs);
      await wide?.run(inputs);
      await inspector.inspect({ id: `w${i}`, capturedAt: 0, image: frames[i % frames.length]! });
      await replayed.inspect({ id: `r${i}`, capturedAt: 0, image: frames[i % frames.length]! });
    }
    const bareFps: number[] = [];
    const pipeFps: number[] = [];
    const ratios: number[] = [];
    const wideFps: number[] = [];
    const wideRatios: number[] = [];
    const bareTimes: number[] = [];
    const records: Extract<PipelineRecord, { kind: 'inspection' }>[] = [];
    for (let r = 0; r < rounds; r++) {
      let bare: { fps: number; times: number[]; cpuMs: number };
      let pipe: { fps: number; records: Extract<PipelineRecord, { kind: 'inspection' }>[] };
      let wideRound: { fps: number } | undefined;
      if (r % 2 === 0) {
        bare = await bareRound(backend, inputs, sessions);
        if (wide) wideRound = await bareRound(wide, inputs, 1);
        pipe = await pipelineRound(inspector, frames);
      } else {
        pipe = await pipelineRound(inspector, frames);
        if (wide) wideRound = await bareRound(wide, inputs, 1);
        bare = await bareRound(backend, inputs, sessions);
      }
      if (wideRound) {
        wideFps.push(wideRound.fps);
        wideRatios.push(pipe.fps / wideRound.fps);
      }
      ownCpu.push(await ownCpuPerFrame(replayed, frames));
      bareFps.push(bare.fps);
      bareCpu.push(bare.cpuMs);
      pipeFps.push(pipe.fps);
      ratios.push(pipe.fps / bare.fps);
      bareTimes.push(...bare.times);
      records.push(...pipe.records);
    }
    await backend.dispose();
    await wide?.dispose();
    await inspector.close();
    await replayed.close();
    const totals = records.map((r) => r.latency.totalMs).sort((a, b) => a - b);
    const stage = (k: 'decodeMs' | 'preprocessMs' | 'inferMs' | 'scoreMs') => median(records.map((r) => r.latency[k]));
    return {
      preset, inputSize: size, backend: records[0]!.model.backend,
      bareFps: median(bareFps), bareP50: median(bareTimes),
      pipeFps: median(pipeFps), p50: percentile(totals, 50), p99: percentile(totals, 99), ratio: median(ratios), ownCpuMs: median(ownCpu), bareCpuMs: median(bareCpu),
      ...(wide ? { wideFps: median(wideFps), wideRatio: median(wideRatios) } : {}),
      stages: { decode: stage('decodeMs'), preprocess: stage('preprocessMs'), infer: stage('inferMs'), score: stage('scoreMs') },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const { images, origin } = await loadFrames(Math.min(framesWanted, 48));
const rows: Row[] = [];
for (const preset of presets) rows.push(await benchPreset(preset, images));
if (json) {
  process.stdout.write(JSON.stringify({ frames: framesWanted, rounds, threads, sessions, inFlight, input: inputKind, origin, rows }, null, 2) + '\n');
} else {
  const f = (v: number, d = 1) => v.toFixed(d);
  process.stdout.write(`${rounds} rounds × ${framesWanted} frames per preset (medians over rounds), ${sessions} ORT session(s) × ${threads} thread(s), max in flight ${inFlight}; input: ${origin}${inputKind === 'raw' ? ', fed as raw RGB at the model size' : ''}\n\n`);
  process.stdout.write('| preset | input | back end | bare model frames/s (p50 ms) | pipeline frames/s | pipeline / bare (median of rounds) | end-to-end p50 / p99 ms | median decode / preprocess / infer / score ms | Inspector own CPU ms/frame (inference replayed) | bare model CPU ms/frame | bound: bare CPU / (bare + own) |\n|---|---|---|---|---|---|---|---|---|---|---|\n');
  for (const r of rows) {
    process.stdout.write(`| ${r.preset} | ${r.inputSize}² | ${r.backend} | ${f(r.bareFps, 2)} (${f(r.bareP50)}) | ${f(r.pipeFps, 2)} | ${f(r.ratio * 100)} % | ${f(r.p50)} / ${f(r.p99)} | ${f(r.stages.decode!)} / ${f(r.stages.preprocess!)} / ${f(r.stages.infer!)} / ${f(r.stages.score!)} | ${f(r.ownCpuMs, 2)} | ${f(r.bareCpuMs, 2)} | ${f((100 * r.bareCpuMs) / (r.bareCpuMs + r.ownCpuMs))} % |\n`);
  }
  for (const r of rows) {
    if (r.wideFps !== undefined) {
      process.stdout.write(`\n${r.preset}: bare model with 1 session × ${threads * sessions} threads (same rounds): ${f(r.wideFps, 2)} frames/s; pipeline / that: ${f(r.wideRatio! * 100)} %\n`);
    }
  }
}
