import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { MmaerecError } from '../errors.js';
import { loadBundle, ONNX_FILE } from '../model/bundle.js';
import { loadTensorRT } from './load.js';
import { requireTensorRT, type TensorRTAvailability } from './addon.js';
import { writeCalibrationSet, type Preparer } from './calibration.js';
import { batchRangeText, ENGINE_FORMAT, sameBatchRange, writeEngineMetadata, type EngineMetadata } from './metadata.js';
import { withDynamicBatch } from '../infer/onnx-batch.js';
import { sha256File } from '../util/sha256.js';
import { parseBuildEngineOptions } from './options.js';
import type { BuildProgressEvent } from './progress.js';

export interface BuildEngineHooks {
  onProgress?: (event: BuildProgressEvent) => void;
  /** Overrides the preprocessing of calibration images (tests). */
  prepare?: Preparer;
  /** Overrides addon discovery (tests). */
  tensorrt?: TensorRTAvailability;
}

export interface BuiltEngine {
  planPath: string;
  metadataPath: string;
  metadata: EngineMetadata;
}

/** Files a build leaves only while it runs (what an interrupted build should remove). */
export function temporaryBuildFiles(planPath: string): string[] {
  return [`${planPath}.partial`, `${planPath}.calib-batches.bin`, `${planPath}.json.partial`, `${planPath}.batch.onnx`];
}

/**
 * For --max-batch > 1, the bundle's model.onnx with a symbolic batch (onnx-batch.ts, the rewrite ONNX Runtime batches
 * with), which build-engine writes beside the plan for the build only; undefined for one frame per inference (the
 * bundle's own file is parsed). The bundle's file, which its sha256 covers, is never changed.
 */
async function batchableOnnx(onnxPath: string, maxBatch: number): Promise<Uint8Array | undefined> {
  if (maxBatch === 1) return undefined;
  const batchable = withDynamicBatch(await readFile(onnxPath));
  if (!batchable.ok) {
    throw new MmaerecError('E_BUNDLE', `--max-batch ${maxBatch} cannot apply: ${batchable.reason}; build without --max-batch (one frame per inference)`);
  }
  return batchable.bytes;
}

/**
 * `build-engine`: parse the bundle's ONNX with TensorRT, build and serialise the engine on this GPU, and write its
 * metadata beside it. Order matters for the user: flags are checked first, then that TensorRT exists (the most
 * likely problem), then the bundle (its files are hashed), then the slow parts.
 */
export async function buildEngine(rawOptions: Record<string, unknown>, hooks: BuildEngineHooks = {}): Promise<BuiltEngine> {
  const options = parseBuildEngineOptions(rawOptions);
  const trt = requireTensorRT(hooks.tensorrt ?? (await loadTensorRT()), 'build-engine');
  const headersMajor = Number(trt.version().headers.split('.')[0]);
  if (headersMajor >= 11 && (options.fp16 || options.int8)) {
    // Refused here too (the native builder does as well), before minutes of calibration preprocessing.
    throw new MmaerecError(
      'E_UNSUPPORTED',
      `TensorRT ${trt.version().headers} builds strongly typed networks and has no ${options.int8 ? 'INT8 calibration' : 'FP16 builder switch'}: build without --fp16/--int8, or feed an ONNX already converted to FP16 (ModelOpt AutoCast) or quantized with Q/DQ nodes (TensorRT Model Optimizer)`,
    );
  }
  // The plan is written at the very end: a directory that cannot take it should fail now, not after the build.
  await access(dirname(options.planPath), constants.W_OK).catch(() => {
    throw new MmaerecError('E_IO', `cannot write the engine into ${dirname(options.planPath)} (missing or not writable): create it or pick another --out`);
  });
  const bundle = await loadBundle(options.modelDir);
  // Before the slow parts: a model that cannot take a batch is refused now, not after minutes of calibration.
  const batchOnnx = await batchableOnnx(bundle.paths.onnx, options.maxBatch);
  const { width, height } = bundle.manifest.input;
  const progress = hooks.onProgress ?? (() => undefined);
  const device = await trt.queryDevice(options.device).catch((err: Error) => {
    throw new MmaerecError('E_UNSUPPORTED', `build-engine needs a CUDA GPU: ${err.message}`);
  });

  let calibration: EngineMetadata['calibration'] = null;
  let calibrationFile = '';
  let calibrationCache = '';
  if (options.int8 && options.calibDir) {
    progress({ kind: 'stage', stage: 'calibration-images' });
    calibrationFile = temporaryBuildFiles(options.planPath)[1]!;
    const set = await writeCalibrationSet({
      imagesDir: options.calibDir,
      width,
      height,
      outFile: calibrationFile,
      limit: options.calibLimit,
      ...(hooks.prepare ? { prepare: hooks.prepare } : {}),
      onImage: (done, total) => progress({ kind: 'calibration-image', done, total }),
    });
    // The cache is only valid for this network and these samples: key its name by both, so new images or a new
    // bundle never reuse scales computed for other data.
    const key = createHash('sha256').update(bundle.sha256).update(set.sha256).digest('hex').slice(0, 16);
    calibrationCache = `${options.planPath}.calib-${key}.cache`;
    calibration = { images: set.count, source: options.calibDir, cacheFile: basename(calibrationCache), cacheHit: false };
  }

  progress({ kind: 'stage', stage: 'building' });
  const started = Date.now();
  let report;
  const onnxPath = batchOnnx ? temporaryBuildFiles(options.planPath)[3]! : bundle.paths.onnx;
  try {
    if (batchOnnx) await writeFile(onnxPath, batchOnnx);
    report = await trt.buildEngine(
      {
        onnxPath,
        planPath: options.planPath,
        fp16: options.fp16,
        int8: options.int8,
        calibrationFile,
        calibrationCache,
        workspaceBytes: options.workspaceBytes,
        device: options.device,
        maxBatch: options.maxBatch,
      },
      (event) => progress(event),
    );
  } catch (err) {
    throw new MmaerecError('E_ENGINE', `TensorRT engine build failed: ${(err as Error).message}`, { cause: err });
  } finally {
    if (calibrationFile) await rm(calibrationFile, { force: true });
    if (batchOnnx) await rm(onnxPath, { force: true });
  }
  if (report.width !== width || report.height !== height) {
    await rm(options.planPath, { force: true });
    throw new MmaerecError('E_BUNDLE', `the bundle's ONNX takes ${report.width}x${report.height} but its manifest says ${width}x${height}: recreate the bundle`);
  }
  const wanted = { min: 1 as const, opt: options.maxBatch, max: options.maxBatch };
  if (!sameBatchRange(report.batch, wanted)) {
    // The plan would take other batches than its metadata says: never leave such a pair behind.
    await rm(options.planPath, { force: true });
    throw new MmaerecError('E_ENGINE', `TensorRT built the batch range ${batchRangeText(report.batch)}, not the ${batchRangeText(wanted)} asked for: rebuild the native addon (\`npm run build:native\`) so that it matches this package`);
  }
  if (calibration) calibration.cacheHit = report.calibrationCacheHit;

  progress({ kind: 'stage', stage: 'hashing' });
  const version = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')).version as string;
  const metadata: EngineMetadata = {
    format: ENGINE_FORMAT,
    tensorrt: { version: report.tensorrtVersion, headers: trt.version().headers },
    gpu: { name: device.name, computeCapability: device.computeCapability, totalMemoryBytes: device.totalMemoryBytes },
    precision: options.precision,
    inputs: { image: [1, 3, height, width], edge: [1, 1, height, width] },
    outputs: { recon: [1, 3, height, width] },
    batch: wanted,
    bundle: { name: bundle.manifest.name, sha256: bundle.sha256, onnxSha256: bundle.manifest.files[ONNX_FILE]!.sha256 },
    plan: { bytes: report.planBytes, sha256: await sha256File(options.planPath) },
    workspaceMiB: options.workspaceMiB,
    calibration,
    builtAt: new Date(started).toISOString(),
    buildSeconds: Math.round(report.seconds * 10) / 10,
    builtBy: `mmaerec-edge ${version}`,
  };
  await writeEngineMetadata(options.metadataPath, metadata);
  progress({ kind: 'stage', stage: 'done' });
  return { planPath: options.planPath, metadataPath: options.metadataPath, metadata };
}
