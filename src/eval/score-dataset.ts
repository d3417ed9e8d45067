import { readFile } from 'node:fs/promises';
import type { Frame } from '../capture/frame.js';
import { MmaerecError, isMmaerecError } from '../errors.js';
import type { EvalAnalysis, EvalAnalyzer } from './analyzer.js';
import type { DatasetImage } from './dataset.js';
import { imageSize, readMask, resizeMask, type MaskResize } from './mask.js';
import { createProgress } from './progress.js';

/** One scored test image: its score, its map and (for good and masked defective images) its mask at map size. */
export interface ScoredImage {
  image: DatasetImage;
  score: number;
  map: Float32Array;
  mapWidth: number;
  mapHeight: number;
  /** 0/1 at map size: all zero for good images; absent for defective images without a mask. */
  mask?: Uint8Array;
}

export interface ScoreOptions {
  maskResize?: MaskResize;
  /** Frames in flight (the inspector overlaps decode, inference and scoring of successive frames). Default 2. */
  concurrency?: number;
  /** Progress bar label on stderr; none when undefined. */
  progress?: string;
  /** Called once per image as it finishes (in completion order), e.g. to save maps or keep gallery candidates. */
  onImage?: (scored: ScoredImage, analysis: EvalAnalysis) => Promise<void> | void;
}

async function analyzeOne(analyzer: EvalAnalyzer, image: DatasetImage, maskResize: MaskResize): Promise<{ scored: ScoredImage; analysis: EvalAnalysis }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(image.path));
  } catch (err) {
    throw new MmaerecError('E_IO', `cannot read ${image.path} (${(err as Error).message}): check the file's permissions`, { cause: err });
  }
  const frame: Frame = { id: image.key, capturedAt: Date.now(), image: bytes, origin: image.path };
  let analysis: EvalAnalysis;
  try {
    analysis = await analyzer.analyze(frame);
  } catch (err) {
    if (isMmaerecError(err) && err.code === 'E_INPUT') {
      throw new MmaerecError('E_DATA', `${image.path}: ${err.message}`, { cause: err });
    }
    throw err;
  }
  const { mapWidth, mapHeight, map } = analysis;
  let mask: Uint8Array | undefined;
  if (image.label === 0) mask = new Uint8Array(mapWidth * mapHeight);
  else if (image.maskPath) {
    const raw = await readMask(image.maskPath, await imageSize(image.path));
    mask = resizeMask(raw, mapWidth, mapHeight, maskResize);
  }
  const scored: ScoredImage = { image, score: analysis.score, map, mapWidth, mapHeight, ...(mask ? { mask } : {}) };
  return { scored, analysis };
}

/** Scores every image through the analyzer (the inspection path), keeping results in dataset order. */
export async function scoreImages(analyzer: EvalAnalyzer, images: DatasetImage[], options: ScoreOptions = {}): Promise<ScoredImage[]> {
  const maskResize = options.maskResize ?? 'nearest';
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const progress = createProgress(options.progress ?? '', images.length, process.stderr, options.progress !== undefined);
  const results: ScoredImage[] = new Array(images.length);
  let next = 0;
  // After one image fails, the other lanes stop taking images: the caller sees the first error only once
  // every lane has settled, so it can close the analyzer without racing a frame still in flight.
  let failed = false;
  const worker = async () => {
    while (!failed && next < images.length) {
      const index = next++;
      const { scored, analysis } = await analyzeOne(analyzer, images[index]!, maskResize);
      if (!Number.isFinite(scored.score)) {
        throw new MmaerecError('E_INFER', `${images[index]!.path} scored ${scored.score}: the model produced non-finite output; check the bundle`);
      }
      results[index] = scored;
      await options.onImage?.(scored, analysis);
      progress.tick();
    }
  };
  const lanes = await Promise.allSettled(
    Array.from({ length: Math.min(concurrency, images.length) }, () =>
      worker().catch((err: unknown) => {
        failed = true;
        throw err;
      }),
    ),
  );
  progress.done();
  const failure = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
  if (failure) throw failure.reason;
  return results;
}
