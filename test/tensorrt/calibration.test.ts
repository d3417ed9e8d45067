import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/capture/frame.js';
import { encodeCalibrationHeader, listCalibrationImages, writeCalibrationSet, type Preparer } from '../../src/engine/calibration.js';
import { MmaerecError } from '../../src/errors.js';
import { needs, tools } from '../helpers/require-tool.js';

const W = 6;
const H = 4;
let dir: string;
let images: string;

/** A stand-in preprocessing with known output: value = image index (from the file's first byte) + i/1000. */
const knownPreparer: Preparer = async (frame: Frame, width, height) => {
  const tag = Number((frame.id.match(/\d+/) ?? ['0'])[0]);
  const image = new Float32Array(3 * width * height).map((_, i) => tag + i / 1000);
  const edge = new Float32Array(width * height).map((_, i) => -tag - i / 1000);
  return { image, edge };
};

async function png(path: string, seed: number): Promise<void> {
  const raw = Buffer.alloc(20 * 16 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 37 + seed * 101) % 256;
  await sharp(raw, { raw: { width: 20, height: 16, channels: 3 } }).png().toFile(path);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-trt-calib-'));
  images = join(dir, 'good');
  await mkdir(images);
  for (const i of [3, 1, 2, 5, 4]) await png(join(images, `img${i}.png`), i);
  await writeFile(join(images, 'notes.txt'), 'not an image');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('calibration batch stream', () => {
  it('header bytes: magic, version, count, width, height, channels, little-endian', () => {
    expect(encodeCalibrationHeader(7, 256, 128).toString('hex')).toBe(
      Buffer.from('MMTRTCB1').toString('hex') + '01000000' + '07000000' + '00010000' + '80000000' + '03000000' + '01000000',
    );
  });

  it('writes header then image (planar) and edge float32 per sample, in sorted file order', async () => {
    const out = join(dir, 'set.bin');
    const set = await writeCalibrationSet({ imagesDir: images, width: W, height: H, outFile: out, limit: 100, prepare: knownPreparer });
    expect(set.count).toBe(5);
    expect(set.images.map((p) => p.slice(-8))).toEqual(['img1.png', 'img2.png', 'img3.png', 'img4.png', 'img5.png']);
    const bytes = await readFile(out);
    expect(bytes.length).toBe(32 + 5 * 4 * W * H * 4);
    expect(set.bytes).toBe(bytes.length);
    expect(set.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(bytes.subarray(0, 32).equals(encodeCalibrationHeader(5, W, H))).toBe(true);
    const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 32, bytes.byteOffset + bytes.length));
    const sample = 4 * W * H;
    for (let s = 0; s < 5; s++) {
      expect(floats[s * sample]).toBeCloseTo(s + 1, 6); // image[0] of img{s+1}
      expect(floats[s * sample + 3 * W * H - 1]).toBeCloseTo(s + 1 + (3 * W * H - 1) / 1000, 5);
      expect(floats[s * sample + 3 * W * H]).toBeCloseTo(-(s + 1), 6); // edge[0]
    }
  });

  it('samples evenly over the sorted list when there are more images than the limit', async () => {
    const picked = await listCalibrationImages(images, 2);
    expect(picked.map((p) => p.slice(-8))).toEqual(['img1.png', 'img3.png']);
  });

  it('refuses a missing folder, a folder without images, and removes a half-written file', async () => {
    const err = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
    const missing = await err(listCalibrationImages(join(dir, 'nope'), 10));
    expect(missing).toBeInstanceOf(MmaerecError);
    expect((missing as MmaerecError).code).toBe('E_DATA');
    expect((missing as Error).message).toMatch(/calibration folder .*nope does not exist or is not a directory: pass --calib <dir of good images>/);
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await writeFile(join(empty, 'readme.md'), '#');
    expect((await err(listCalibrationImages(empty, 10)) as Error).message).toMatch(/holds no images \(.png, .jpg.*\): point --calib at a folder of good images/);

    const out = join(dir, 'broken.bin');
    let calls = 0;
    const failing: Preparer = async (frame, w, h) => {
      if (++calls === 3) throw new MmaerecError('E_INPUT', `frame ${frame.id} cannot be decoded: replace it`);
      return knownPreparer(frame, w, h);
    };
    const e = await err(writeCalibrationSet({ imagesDir: images, width: W, height: H, outFile: out, limit: 10, prepare: failing }));
    expect((e as Error).message).toBe('frame img3.png cannot be decoded: replace it');
    expect(existsSync(out)).toBe(false);
  });

  it('uses the inspection preprocessing by default (bytes equal prepareFrame output)', async () => {
    const { prepareFrame } = await import('../../src/preprocess/preprocess.js');
    const out = join(dir, 'real.bin');
    await writeCalibrationSet({ imagesDir: images, width: 8, height: 8, outFile: out, limit: 2 });
    const bytes = await readFile(out);
    const first = await prepareFrame({ id: 'img1.png', capturedAt: 0, image: await readFile(join(images, 'img1.png')) }, 8, 8);
    const expected = Buffer.concat([Buffer.from(first.image.buffer, first.image.byteOffset, first.image.byteLength), Buffer.from(first.edge.buffer, first.edge.byteOffset, first.edge.byteLength)]);
    expect(bytes.subarray(32, 32 + expected.length).equals(expected)).toBe(true);
    expect(first.edge.some((v) => v > 0)).toBe(true); // a real edge map, not zeros
  });
});

needs(tools.gxx()).describe('the C++ calibration reader (native/tensorrt) reads what TypeScript writes', () => {
  let binary: string;
  beforeAll(() => {
    binary = join(dir, 'tensorrt_test');
    // TENSORRT_ROOT pointing nowhere: always the TensorRT-free build, fast and deterministic on every machine.
    execFileSync('bash', ['native/tensorrt/test/build.sh', binary], { env: { ...process.env, TENSORRT_ROOT: '' }, stdio: 'pipe' });
  }, 120_000);

  it('header and every float agree (sums over all samples)', async () => {
    const out = join(dir, 'cross.bin');
    const set = await writeCalibrationSet({ imagesDir: images, width: W, height: H, outFile: out, limit: 100, prepare: knownPreparer });
    const printed = execFileSync(binary, ['--read-calibration', out], { encoding: 'utf8' }).trim();
    const floats = new Float32Array((await readFile(out)).buffer.slice(32));
    let imageSum = 0;
    let edgeSum = 0;
    const sample = 4 * W * H;
    floats.forEach((v, i) => {
      if (i % sample < 3 * W * H) imageSum += v;
      else edgeSum += v;
    });
    expect(printed).toBe(`count=${set.count} width=${W} height=${H} imageSum=${imageSum.toFixed(6)} edgeSum=${edgeSum.toFixed(6)}`);
  });

  it('the C++ test passes and says loudly that the TensorRT part was skipped', () => {
    const run = spawnSync(binary, [], { encoding: 'utf8', env: { ...process.env, TMPDIR: dir } });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/SKIP: TensorRT engine tests: built without TensorRT/);
    expect(run.stdout).toMatch(/ok: truncated file refused/);
    // The batch-range checks (native/tensorrt/batch_range.cc) need no TensorRT, so they run here too.
    expect(run.stdout).toMatch(/ok: --max-batch 4 on a fixed-batch network refused/);
    expect(run.stdout).toMatch(/ok: five frames for an engine of up to 4 refused/);
    expect(run.stdout).toMatch(/PASSED \(0 failed\)/);
  });
});
