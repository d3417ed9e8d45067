/**
 * The training run: options → data → network (MODEL's graph through its tfjs executor) → steps with
 * checkpoints → threshold calibration → bundle (MODEL's writer). Resumable: a checkpoint holds every piece of
 * state that influences later steps (weights, BN statistics, Adam moments, step, RNG, data order), and wasm/cpu
 * kernels are deterministic, so `--resume` reproduces the uninterrupted run.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MmaerecError } from '../errors.js';
import type { LoadedBundle } from '../model/bundle.js';
import { presetConfig, type ModelConfig } from '../model/config.js';
import { autoTiling } from './auto-tiling.js';
import { defaultBackbone } from './default-backbone.js';
import { initWeights, type WeightMap } from '../model/init.js';
import { buildNetwork } from '../model/network.js';
import { parseBackboneFileMetadata, type BackboneFileInfo } from '../model/import-backbone.js';
import { parseSafetensors, toFloat32 } from '../model/safetensors.js';
import { TfjsNetwork } from '../model/tfjs-executor.js';
import { Adam } from './adam.js';
import { describeBackend, selectTrainBackend, type BackendChoice } from './backend.js';
import { cleanBatch, initialOrder, makeBatch } from './batch.js';
import { exportBundle } from './export.js';
import type { BankFill } from './feature-bank.js';
import { CHECKPOINT_DIR, CHECKPOINT_FORMAT, loadCheckpoint, saveCheckpoint, type CheckpointState } from './checkpoint.js';
import { assertDataFolder, listImages, loadDataset, type Dataset } from './data.js';
import { assertWritable } from './disk.js';
import { reconstructionLoss } from './losses.js';
import { parseTrainOptions, type TrainOptions, type TrainOptionsInput } from './options.js';
import { ProgressBar, formatDuration } from './progress.js';
import { Rng } from './rng.js';
import { learningRate } from './schedule.js';

export interface TrainResult {
  /** Present when training finished and the bundle was written. */
  bundle?: LoadedBundle;
  /** True when stopped by a signal/abort after saving a checkpoint (resume with `resume: true`). */
  interrupted: boolean;
  step: number;
  totalSteps: number;
  backend: BackendChoice;
  finalLoss?: { total: number; l2: number; ssim: number; entropy: number };
  history: CheckpointState['history'];
  durationMs: number;
  warnings: string[];
}

export interface TrainHooks {
  /** Stop at the next step boundary, save a checkpoint and return `interrupted: true` (Ctrl-C). */
  signal?: AbortSignal;
  /** Stop after this many steps of THIS call (tests of resume); a checkpoint is saved. */
  stopAfter?: number;
  log?: (line: string) => void;
}

/** A --backbone file: its tensors, and what import-backbone recorded about them (arch, taps, licence). */
interface BackboneFile {
  weights: WeightMap;
  info: BackboneFileInfo;
}

async function loadBackboneFile(path: string): Promise<BackboneFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new MmaerecError('E_CONFIG', `cannot read --backbone ${path} (${(err as NodeJS.ErrnoException).code}): pass a .safetensors file written by import-backbone`);
  }
  // a plain Uint8Array, not a Buffer: Buffer#slice is a view, and toFloat32 relies on slice() copying
  const file = parseSafetensors(new Uint8Array(bytes), path);
  const out: WeightMap = new Map();
  for (const [name, t] of file.tensors) out.set(name, { shape: t.shape, data: toFloat32(t, name) });
  return { weights: out, info: parseBackboneFileMetadata(file.metadata) };
}

/**
 * The network config for these options: preset + overrides, and for a random backbone the strategy's change —
 * a trainable backbone (`train-backbone`) or no memory modules (`skip-memory`, the default: with random
 * features the memory's prototypes cost more than they give; BENCHMARKS.md, "Training").
 */
export function resolveModelConfig(o: TrainOptions, backbone?: BackboneFileInfo): ModelConfig {
  const overrides = structuredClone(o.model);
  // A --backbone file that says what it is (import-backbone writes arch and taps) sets the backbone, unless the
  // network config names the arch itself (then it must agree).
  if (o.backbone && backbone?.arch) {
    const given = (overrides.backbone ?? {}) as { arch?: string; taps?: unknown };
    if (given.arch !== undefined && given.arch !== backbone.arch) {
      throw new MmaerecError('E_CONFIG', `--backbone ${o.backbone} holds ${backbone.arch} weights but model.backbone.arch is ${given.arch}: drop model.backbone.arch or import a ${given.arch} backbone`);
    }
    if (given.taps !== undefined && JSON.stringify(given.taps) !== JSON.stringify(backbone.taps)) {
      throw new MmaerecError('E_CONFIG', `--backbone ${o.backbone} was imported with taps ${JSON.stringify(backbone.taps ?? null)}, model.backbone.taps is ${JSON.stringify(given.taps)}: drop model.backbone.taps or re-run import-backbone --taps`);
    }
    // A tapped backbone's widths are its file's: a widthDivisor meant for the ResNet of a recipe does not apply.
    const widths = backbone.arch === 'mobilenet_v2' ? { widthDivisor: 1 } : {};
    overrides.backbone = { ...given, arch: backbone.arch, ...(backbone.taps ? { taps: backbone.taps } : {}), ...widths };
  }
  if (!o.backbone && o.noPretrained === 'train-backbone') {
    overrides.backbone = { ...((overrides.backbone as object) ?? {}), trainable: true };
  }
  if (!o.backbone && o.noPretrained === 'skip-memory') {
    overrides.memory = { ...((overrides.memory as object) ?? {}), levels: [] };
  }
  // The feature bank compares pretrained features; random ones do not tell normal from not (issue 16: 0.55).
  const bank = o.featureBank === 'auto' ? o.backbone !== undefined : o.featureBank;
  if (bank && overrides.featureBank === undefined) overrides.featureBank = {};
  if (!bank) delete overrides.featureBank;
  return presetConfig(o.preset, overrides);
}

/**
 * Steps when neither --steps nor --epochs is given: 750 edge steps ≈ 30 min on the 2-core build machine, so that
 * training and its export (feature bank, scoring choice, calibration: ≈ 12–18 min for a tiled set such as
 * BSData) fit the recipe's hour (issue 16 item 8); 1500 steps plus export did not.
 */
export const DEFAULT_STEPS = 750;

function totalStepsFor(o: TrainOptions, trainImages: number): number {
  if (o.steps !== undefined) return o.steps;
  // the default recipe: half an hour of CPU training at the edge preset's ≈ 2.4 s a step (BENCHMARKS.md)
  if (o.epochs === undefined) return DEFAULT_STEPS;
  return o.epochs * Math.ceil(trainImages / o.batch);
}

/**
 * The backbone: --backbone's file; else, unless a random-backbone strategy was asked for, the default pretrained
 * one (default-backbone.ts), named in the options as if given; else random, with the warning that says why.
 */
async function withBackbone(o: TrainOptions, warnings: string[]): Promise<{ options: TrainOptions; backboneFile?: BackboneFile }> {
  if (o.backbone) return { options: o, backboneFile: await loadBackboneFile(o.backbone) };
  // a config that names another architecture chose it: its pretrained weights come with --backbone
  const arch = (o.model.backbone as { arch?: string } | undefined)?.arch;
  if (o.pretrained === 'none' || (arch !== undefined && arch !== 'mobilenet_v2')) return { options: o };
  const found = await defaultBackbone();
  if ('missing' in found) {
    warnings.push(found.missing);
    return { options: o };
  }
  return { options: { ...o, backbone: found.label }, backboneFile: { weights: found.weights, info: found.info } };
}

/** The options with the tiling the default recipe picks from the images' shapes (auto-tiling.ts), said in the log. */
async function withAutoTiling(o: TrainOptions, inputSize: number, log: (line: string) => void): Promise<TrainOptions> {
  if (o.tiling || !o.autoTiling) return o;
  const files = await listImages(o.data);
  const { tiling, aspect, sampled } = await autoTiling(o.limit !== undefined ? files.slice(0, o.limit) : files, inputSize);
  if (!tiling) return o;
  log(`tiling: the images' median aspect ratio is ${aspect.toFixed(2)} (${sampled} sampled), so they are tiled at short edge ${tiling.shortEdge}, not stretched (--no-auto-tiling to stretch)`);
  return { ...o, tiling };
}

/** What must match for `--resume` to continue a run (everything that changes the numbers). */
function fingerprint(o: TrainOptions, config: ModelConfig, totalSteps: number): Record<string, unknown> {
  return {
    config, totalSteps, batch: o.batch, lr: o.lr, lrFactor: o.lrFactor, lrMilestones: o.lrMilestones, seed: o.seed,
    backbone: o.backbone ?? null, noPretrained: o.noPretrained, ssimWeight: o.ssimWeight, entropyWeight: o.entropyWeight,
    augment: o.augment, validationFraction: o.validationFraction, limit: o.limit ?? null,
  };
}

function estimateBytes(weights: WeightMap): number {
  let n = 0;
  for (const t of weights.values()) n += t.data.length;
  // checkpoint weights + 2 Adam moments + its temporary copy during a save + safetensors + ONNX, plus 16 MiB
  return n * 4 * 8 + 16 * 2 ** 20;
}

/**
 * The wasm back end has a 4 GB heap; a step that does not fit fails deep inside XNNPACK with "memory access out
 * of bounds". Turn that into an error that names the fix.
 */
function guardHeap<T>(backend: BackendChoice, o: TrainOptions, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (backend.name === 'wasm' && /memory access out of bounds|out of memory/i.test((err as Error).message)) {
      throw new MmaerecError('E_UNSUPPORTED', `the wasm back end ran out of its 4 GB heap at batch ${o.batch}: lower --batch or the input size, or install @tensorflow/tfjs-node(-gpu)`, { cause: err });
    }
    throw err;
  }
}

/**
 * Fits a random frozen backbone's BatchNorm statistics to the training images (issue 4 point 7): reset them,
 * then average the batch statistics of `bnBatches` batches of clean images (PyTorch's update_bn).
 */
async function reestimateBackboneStats(net: TfjsNetwork, data: Dataset, o: TrainOptions): Promise<void> {
  const n = data.train.pixels.length;
  const rng = new Rng(o.seed ^ 0xb17);
  net.resetRunningStats('backbone');
  for (let i = 0; i < o.bnBatches; i++) {
    const idx = Array.from({ length: Math.min(o.batch, n) }, () => rng.int(n));
    const b = await cleanBatch(data.train, idx);
    tf.tidy(() => {
      net.forward(b.image, b.edge, { training: true, backboneBatchStats: true, momentum: 'cumulative' });
    });
    tf.dispose([b.image, b.edge]);
  }
}

/** Trains a model on a folder of good images and writes a ready bundle to `options.out`. */
export async function train(input: TrainOptionsInput, hooks: TrainHooks = {}): Promise<TrainResult> {
  const started = Date.now();
  const given0 = parseTrainOptions(input);
  const out = resolve(given0.out);
  const progress = new ProgressBar(process.stderr, 10, given0.progress);
  const log = hooks.log ?? ((line: string) => progress.log(line));
  const warnings: string[] = [];
  await assertDataFolder(given0.data);
  const { options: parsed, backboneFile } = await withBackbone(given0, warnings);
  const config = resolveModelConfig(parsed, backboneFile?.info);
  const o = await withAutoTiling(parsed, config.inputSize, log);
  const graph = buildNetwork(config);
  const given = backboneFile?.weights ?? new Map();
  const attribution = backboneFile?.info.attribution ? { backboneAttribution: { ...backboneFile.info.attribution } } : {};
  let weights = initWeights(graph, o.seed, given);
  await assertWritable(out, estimateBytes(weights));
  const backend = await selectTrainBackend(o.backend);
  log(describeBackend(backend));

  if (o.tiling && o.tiling.shortEdge < config.inputSize) {
    throw new MmaerecError('E_CONFIG', `tiling.shortEdge ${o.tiling.shortEdge} is below the model input ${config.inputSize}: tiles are model-size squares; give a short edge of at least ${config.inputSize}`);
  }
  const data: Dataset = await loadDataset(o.data, { size: config.inputSize, validationFraction: o.validationFraction, seed: o.seed, limit: o.limit, ...(o.tiling ? { tiling: o.tiling } : {}) });
  log(`data: ${data.train.files.length} training + ${data.validation.files.length} validation images from ${o.data} (${o.tiling ? `${config.inputSize}² tiles at short edge ${o.tiling.shortEdge}, aspect kept` : `${config.inputSize}²`})`);
  const totalSteps = totalStepsFor(o, data.train.files.length);
  const print = fingerprint(o, config, totalSteps);

  let rng = new Rng(o.seed);
  let order = initialOrder(data.train.files.length, rng);
  let step = 0;
  let elapsedBefore = 0;
  let history: CheckpointState['history'] = [];
  const adam = new Adam();
  const ckpt = o.resume ? await loadCheckpoint(out) : undefined;
  if (o.resume && !ckpt) log(`no checkpoint in ${join(out, CHECKPOINT_DIR)}: starting from step 0`);
  if (ckpt) {
    if (JSON.stringify(ckpt.state.fingerprint) !== JSON.stringify(print) || ckpt.state.dataDigest !== data.digest) {
      throw new MmaerecError('E_CONFIG', `the checkpoint in ${out} was written by a run with other options or data: rerun with the same flags and data, or use another --out`);
    }
    weights = ckpt.weights;
    rng = new Rng(ckpt.state.rng);
    order = ckpt.state.order;
    step = ckpt.state.step;
    elapsedBefore = ckpt.state.elapsedMs;
    history = ckpt.state.history;
    log(`resuming at step ${step}/${totalSteps}`);
  }

  const net = new TfjsNetwork(tf, config, weights);
  const trainable = new Map([...net.variables].filter(([name]) => graph.params.find((p) => p.name === name)?.trainable));
  if (ckpt) adam.restore(ckpt.moments, ckpt.state.optimizerIterations);
  const randomBackbone = !o.backbone;
  if (randomBackbone) {
    warnings.push(`no --backbone given: the ${config.backbone.arch} backbone is random; strategy '${o.noPretrained}' (docs/training.md)`);
  }
  if (!ckpt && randomBackbone && (o.noPretrained === 'bn-reestimate' || o.noPretrained === 'skip-memory')) {
    await reestimateBackboneStats(net, data, o);
    log(`re-estimated the backbone's BatchNorm statistics on ${o.bnBatches}×${o.batch} clean training images`);
  }

  // training time only: interim snapshot exports are not counted (learning curves are against training minutes)
  let excludedMs = 0;
  /** The feature bank filled by the first snapshot: its later exports reuse it (a frozen backbone gives the same). */
  let bankFilled: BankFill | undefined;
  const elapsed = (): number => elapsedBefore + Date.now() - started - excludedMs;
  const save = async (): Promise<void> => {
    await saveCheckpoint(out, {
      state: {
        format: CHECKPOINT_FORMAT, step, totalSteps, rng: rng.state(), order, optimizerIterations: adam.iterations,
        fingerprint: print, dataDigest: data.digest, elapsedMs: elapsed(), history,
      },
      weights: net.exportWeights(),
      moments: await adam.save(),
    });
  };

  const window = { n: 0, total: 0, l2: 0, ssim: 0, entropy: 0 };
  let last = { total: NaN, l2: NaN, ssim: NaN, entropy: NaN };
  let stepsThisCall = 0;
  let interrupted = false;
  const logEvery = Math.max(1, Math.min(50, Math.floor(totalSteps / 20)));
  while (step < totalSteps) {
    if (hooks.signal?.aborted || (hooks.stopAfter !== undefined && stepsThisCall >= hooks.stopAfter)) {
      interrupted = true;
      break;
    }
    const t0 = performance.now();
    const lr = learningRate({ lr: o.lr, factor: o.lrFactor, milestones: o.lrMilestones }, step, totalSteps);
    const batch = await makeBatch(data.train, o.batch, order, rng, o.augment);
    let terms: tf.Scalar[] = [];
    const { grads, value } = guardHeap(backend, o, () => tf.variableGrads(() => {
      const r = net.forward(batch.input, batch.edge, { training: true });
      const addressing = r.addressing.map((a) => a.weights);
      const t = reconstructionLoss(batch.target, r.recon, addressing, 3, { ssim: o.ssimWeight, entropy: o.entropyWeight });
      terms = [tf.keep(t.l2), tf.keep(t.ssim), tf.keep(t.entropy)];
      return t.total;
    }, [...trainable.values()]));
    // variableGrads keys gradients by tfjs variable name; the optimiser keys them by parameter name
    const named: tf.NamedTensorMap = {};
    for (const [name, v] of trainable) if (grads[v.name]) named[name] = grads[v.name]!;
    adam.apply(trainable, named, lr);
    const values = await Promise.all([value, ...terms].map(async (t) => (await t.data())[0]!));
    tf.dispose([value, ...terms, ...Object.values(grads), batch.input, batch.edge, batch.target]);
    const [total, l2, ssimTerm, entropy] = values as [number, number, number, number];
    if (!Number.isFinite(total)) {
      throw new MmaerecError('E_MODEL', `training diverged at step ${step + 1} (loss ${total}): lower --lr (now ${o.lr}) or resume from the last checkpoint`);
    }
    last = { total, l2, ssim: ssimTerm, entropy };
    window.n++, (window.total += total), (window.l2 += l2), (window.ssim += ssimTerm), (window.entropy += entropy);
    step++;
    stepsThisCall++;
    if (step % logEvery === 0 || step === totalSteps) {
      const k = window.n;
      history.push({ step, total: window.total / k, l2: window.l2 / k, ssim: window.ssim / k, entropy: window.entropy / k, elapsedMs: elapsed() });
      Object.assign(window, { n: 0, total: 0, l2: 0, ssim: 0, entropy: 0 });
    }
    progress.update({ step, totalSteps, epoch: order.epoch + 1, total, l2, ssim: ssimTerm, entropy, stepMs: performance.now() - t0, lr });
    if (step % o.checkpointEvery === 0 && step < totalSteps) await save();
    if (o.snapshotEvery && step % o.snapshotEvery === 0 && step < totalSteps) {
      const dir = join(out, 'snapshots', `step-${String(step).padStart(6, '0')}`);
      const t0 = Date.now();
      bankFilled = (await exportBundle(dir, { net, config, data, options: o, backend, step, lastLoss: last, durationMs: elapsed(), ...attribution, log, ...(bankFilled ? { bankFilled } : {}) })).bankFill;
      excludedMs += Date.now() - t0;
      log(`snapshot bundle at step ${step} (${formatDuration(elapsed())} of training): ${dir}`);
    }
  }
  progress.done();

  const result: TrainResult = {
    interrupted, step, totalSteps, backend, history, warnings, durationMs: elapsed(),
    ...(Number.isFinite(last.total) ? { finalLoss: last } : {}),
  };
  if (interrupted) {
    await save();
    log(`stopped at step ${step}/${totalSteps}; checkpoint saved in ${join(out, CHECKPOINT_DIR)}: continue with --resume`);
    adam.dispose();
    net.dispose();
    return result;
  }

  const exported = await exportBundle(out, { net, config, data, options: o, backend, step, lastLoss: last, durationMs: result.durationMs, ...attribution, log, ...(bankFilled ? { bankFilled } : {}) });
  adam.dispose();
  net.dispose();
  warnings.push(...exported.warnings.filter((w) => !w.includes('randomly initialised') || !randomBackbone));
  result.bundle = exported.bundle;
  if (!o.keepCheckpoint) await rm(join(out, CHECKPOINT_DIR), { recursive: true, force: true });
  const t = result.bundle.manifest.thresholds;
  log(`bundle written to ${out} (image threshold ${t.image.toFixed(4)}, pixel ${t.pixel.toFixed(4)})`);
  return result;
}
