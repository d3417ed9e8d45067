import { createHash } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PreparedInputs } from '../../engine/calibration.js';
import { MmaerecError } from '../../errors.js';
import { INT8_ONNX_FILE, loadBundle, loadBundleWeights, writeManifestFile, type LoadedBundle } from '../bundle.js';
import { foldBatchNorms } from '../fold-batchnorm.js';
import type { Int8Variant, Manifest } from '../manifest.js';
import type { NetworkGraph } from '../graph.js';
import type { WeightMap } from '../init.js';
import { buildNetwork } from '../network.js';
import { writeOnnx } from '../onnx-writer.js';
import { activationQuant, type ActivationQuant } from '../qdq.js';
import { ActivationHistogram } from './histogram.js';
import { planQuantization, type PlanOptions, type QuantizationPlan } from './plan.js';
import { calibrationSamples } from './samples.js';

type Ort = typeof import('onnxruntime-node');
type Session = import('onnxruntime-node').InferenceSession;

export interface QuantizeOptions extends PlanOptions {
  /** Bundle directory. */
  model: string;
  /** Folder of good images. */
  calib: string;
  /** At most this many calibration images (evenly spread over the sorted folder; default 100). */
  limit?: number;
  /**
   * Range rule (histogram.ts): 'percentile' (default, 99.99) or 'mse'. On models/demo-lite (magnetic tile) the
   * AUROCs moved least with percentile 99.99 (image −0.001, pixel −0.002; MSE +0.002 / −0.003; min–max, i.e.
   * percentile 100, −0.012 pixel): BENCHMARKS.md, "INT8".
   */
  rule?: 'percentile' | 'mse';
  percentile?: number;
  /** ONNX Runtime threads for calibration (default 1: the line may be running beside it). */
  threads?: number;
  /**
   * When the int8 decoder moves the reconstruction by more than RECON_FALLBACK_BOUND of its spread on the check samples, keep
   * the decoder's convs float instead (default true; the reason is recorded with each).
   */
  decoderFallback?: boolean;
  /** The fallback's bound on mean |Δrecon| ÷ the reconstruction's spread (default RECON_FALLBACK_BOUND). */
  reconBound?: number;
  /** Progress: called after each calibration sample has run. */
  onSample?: (done: number, total: number) => void;
}

export interface QuantizeResult {
  bundle: LoadedBundle;
  file: string;
  bytes: number;
  variant: Int8Variant;
}

/** Samples compared with the float model after quantisation (the manifest's `check`). */
const CHECK_SAMPLES = 8;

/**
 * Above this mean |recon int8 − fp32| ÷ mean |recon − mean(recon)| on the check samples, the decoder goes float.
 * Between the measured cases: the default recipe's network part-trained, 27 % (decoder float: 1.2 %), which is
 * what the fallback is for; demo-lite at 6.2–8.6 % (magnetic tile, examples/frames), whose AUROCs stayed within
 * 0.002 of FP32 with its decoder int8 (BENCHMARKS.md, "INT8") — so a decoder int8 holds that well keeps its speed.
 */
export const RECON_FALLBACK_BOUND = 0.15;

const percent = (x: number): string => `${(100 * x).toFixed(1)} %`;

/**
 * `mmaerec-edge quantize`: calibrates activation ranges on good images, writes the INT8 (static QDQ) variant of
 * the bundle's network with the project's ONNX writer (BatchNorm folded, plan.ts's choice of int8 and float ops)
 * and records it in the manifest (variants.int8, files). The float model.onnx is kept unchanged.
 */
export async function quantizeBundle(options: QuantizeOptions): Promise<QuantizeResult> {
  const bundle = await loadBundle(options.model);
  const rule = options.rule ?? 'percentile';
  const percentile = options.percentile ?? 99.99;
  if (!(percentile > 50 && percentile <= 100)) throw new MmaerecError('E_CONFIG', `--percentile ${percentile} is outside (50, 100]: give e.g. --percentile 99.99`);
  const limit = options.limit ?? 100;
  const ort = await loadOrt();
  const { width, height, tiling } = bundle.manifest.input;
  const calibration = await calibrationSamples(options.calib, limit, { width, height, tiling });

  const folded = foldBatchNorms(buildNetwork(bundle.config), await loadBundleWeights(bundle));
  const threads = options.threads ?? 1;
  const version = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')).version as string;
  const checkSamples = calibration.samples.slice(0, CHECK_SAMPLES);
  const build = async (plan: QuantizationPlan) => {
    const model = writeOnnx(folded.graph, folded.weights, {
      inputSize: width, producerVersion: version, name: `${bundle.manifest.name}-int8`, qdq: { activations: planActivations(plan, ranges), convs: plan.convs },
    });
    return { plan, model, check: await compareWithFloat(ort, bundle, model, checkSamples, threads) };
  };
  const first = planQuantization(folded.graph, options);
  const ranges = await calibrateRanges(ort, folded, first.calibrated, calibration.samples, { width, height, threads, rule, percentile, onSample: options.onSample });
  let chosen = await build(first);
  // A decoder whose activations int8 cannot hold goes float: the default recipe's network after 250 of its 750
  // training steps had heavy-tailed decoder activations (p99.99 ≈ 2× p99.9) and moved its reconstruction by 27 % of
  // the spread on the check samples in int8, 1.2 % with the decoder float; trained to the end it stays within the
  // bound (5.0 %). Its ranges are a subset of the first plan's: nothing is calibrated again.
  const decoder = [...first.convs].map((w) => folded.graph.nodes.find((n) => n.spec.op === 'conv' && n.spec.weight === w)!.name).filter((n) => n.startsWith('decoder.'));
  const bound = options.reconBound ?? RECON_FALLBACK_BOUND;
  if ((options.decoderFallback ?? true) && chosen.check.relative > bound && decoder.length > 0) {
    const reason = `the decoder: with it in int8 the reconstruction moved by ${percent(chosen.check.relative)} of its spread on ${chosen.check.samples} calibration samples (bound ${percent(bound)})`;
    const fallback = await build(planQuantization(folded.graph, { ...options, floatConvs: [...(options.floatConvs ?? []), ...decoder.map((name) => ({ name, reason }))] }));
    if (fallback.check.relative < chosen.check.relative) chosen = fallback;
  }
  const { plan, model: int8Model, check } = chosen;

  const variant: Int8Variant = {
    file: INT8_ONNX_FILE,
    method: 'static-qdq',
    weights: 'int8 symmetric, per output channel',
    activations: 'uint8 asymmetric, per tensor',
    calibration: {
      rule, ...(rule === 'percentile' ? { percentile } : {}), folder: options.calib,
      images: calibration.images.length, samples: calibration.samples.length, sha256: calibration.sha256,
    },
    int8Convs: plan.convs.size,
    floatConvs: plan.floatConvs,
    check,
    createdAt: new Date().toISOString(),
    producer: `mmaerec-edge ${version}`,
  };
  const file = join(bundle.dir, INT8_ONNX_FILE);
  const manifest: Manifest = {
    ...bundle.manifest,
    files: { ...bundle.manifest.files, [INT8_ONNX_FILE]: { sha256: createHash('sha256').update(int8Model).digest('hex'), bytes: int8Model.byteLength } },
    variants: { ...bundle.manifest.variants, int8: variant },
  };
  try {
    await writeFile(`${file}.tmp`, int8Model);
    await rename(`${file}.tmp`, file);
    await writeManifestFile(bundle.dir, manifest);
  } catch (err) {
    await rm(`${file}.tmp`, { force: true });
    throw new MmaerecError('E_IO', `cannot write ${file} (${(err as Error).message}): check that the bundle folder is writable`, { cause: err });
  }
  return { bundle: await loadBundle(bundle.dir), file, bytes: int8Model.byteLength, variant };
}

/**
 * Runs the float network with every value of `calibrated` as an extra output over `samples` and returns each
 * value's uint8 parameters by the range rule. One pass: the histograms merge as they go (histogram.ts).
 */
export async function calibrateRanges(
  ort: Ort,
  folded: { graph: NetworkGraph; weights: WeightMap },
  calibrated: readonly string[],
  samples: readonly PreparedInputs[],
  o: { width: number; height: number; threads: number; rule: 'percentile' | 'mse'; percentile: number; onSample?: ((done: number, total: number) => void) | undefined },
): Promise<Map<string, ActivationQuant>> {
  const probeModel = writeOnnx(folded.graph, folded.weights, { inputSize: o.width, probes: [...calibrated] });
  const histograms = calibrated.map(() => new ActivationHistogram());
  const probe = await createSession(ort, probeModel, o.threads, 'calibration model');
  try {
    for (const [i, sample] of samples.entries()) {
      const out = await probe.run(feeds(ort, sample, o.width, o.height));
      calibrated.forEach((_, p) => histograms[p]!.addAll(out[`probe${p}`]!.data as Float32Array));
      o.onSample?.(i + 1, samples.length);
    }
  } finally {
    await probe.release();
  }
  const ranges = new Map<string, ActivationQuant>();
  calibrated.forEach((value, p) => {
    const h = histograms[p]!;
    const [lo, hi] = o.rule === 'mse' ? h.mseRange() : h.percentileRange(o.percentile);
    ranges.set(value, activationQuant(lo, hi));
  });
  return ranges;
}

/** The plan's activations with their calibrated parameters (a tied value takes its source's). */
export function planActivations(plan: QuantizationPlan, ranges: ReadonlyMap<string, ActivationQuant>): Map<string, ActivationQuant> {
  const activations = new Map<string, ActivationQuant>();
  for (const value of plan.calibrated) {
    const q = ranges.get(value);
    if (!q) throw new Error(`quantize: no calibrated range for ${value}`);
    activations.set(value, q);
  }
  for (const [value, source] of plan.tied) activations.set(value, activations.get(source)!);
  return activations;
}

export async function loadOrt(): Promise<Ort> {
  try {
    return await import('onnxruntime-node');
  } catch (err) {
    throw new MmaerecError('E_UNSUPPORTED', `onnxruntime-node cannot load (${(err as Error).message}): reinstall it with "npm install onnxruntime-node"`);
  }
}

export async function createSession(ort: Ort, model: Uint8Array | string, threads: number, what: string): Promise<Session> {
  try {
    const options = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1 } as const;
    return typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
  } catch (err) {
    throw new MmaerecError('E_MODEL', `onnxruntime rejects the ${what} (${String((err as Error).message).split('\n')[0]}): this is a bug in mmaerec-edge's quantiser; report it`);
  }
}

export function feeds(ort: Ort, s: PreparedInputs, width: number, height: number): Record<string, import('onnxruntime-node').Tensor> {
  return {
    image: new ort.Tensor('float32', s.image, [1, 3, height, width]),
    edge: new ort.Tensor('float32', s.edge, [1, 1, height, width]),
  };
}

/**
 * Mean and largest |recon_int8 − recon_fp32| over `samples` (ONNX Runtime CPU, both models), the mean relative to
 * the reconstruction's spread (its mean |recon − mean| per sample), and for a feature-bank bundle mean
 * |featureDistance_int8 − featureDistance_fp32| beside the mean FP32 distance.
 */
async function compareWithFloat(ort: Ort, bundle: LoadedBundle, int8Model: Uint8Array, samples: PreparedInputs[], threads: number): Promise<Int8Variant['check'] & { relative: number }> {
  const { width, height } = bundle.manifest.input;
  const float = await createSession(ort, bundle.paths.onnx, threads, 'float model');
  const int8 = await createSession(ort, int8Model, threads, 'INT8 model');
  let sum = 0;
  let spread = 0;
  let max = 0;
  let count = 0;
  const bank = { diff: 0, sum: 0, count: 0 };
  try {
    for (const s of samples) {
      const fa = await float.run(feeds(ort, s, width, height));
      const fb = await int8.run(feeds(ort, s, width, height));
      const [a, b] = [fa.recon!.data as Float32Array, fb.recon!.data as Float32Array];
      let mean = 0;
      for (let i = 0; i < a.length; i++) mean += a[i]!;
      mean /= a.length;
      for (let i = 0; i < a.length; i++) {
        const d = Math.abs(a[i]! - b[i]!);
        sum += d;
        spread += Math.abs(a[i]! - mean);
        if (d > max) max = d;
      }
      count += a.length;
      if (fa.featureDistance) {
        const [da, db] = [fa.featureDistance.data as Float32Array, fb.featureDistance!.data as Float32Array];
        for (let i = 0; i < da.length; i++) {
          bank.diff += Math.abs(da[i]! - db[i]!);
          bank.sum += da[i]!;
        }
        bank.count += da.length;
      }
    }
  } finally {
    await Promise.all([float.release(), int8.release()]);
  }
  return {
    samples: samples.length, meanAbsDiff: sum / count, maxAbsDiff: max, relative: spread > 0 ? sum / spread : 0,
    ...(bank.count ? { featureDistance: { meanAbsDiff: bank.diff / bank.count, mean: bank.sum / bank.count } } : {}),
  };
}
