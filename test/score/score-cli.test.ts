import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_INPUT_PIXELS } from '../../src/preprocess/decode.js';
import { fusedScore } from '../../src/score/fused.js';
import { imagePair, maxAbsDiff } from './helpers.js';
import { ROOT, needs, tools } from '../helpers/require-tool.js';

// Through main() as bin/mmaerec-edge.js calls it (the same entry the other CLI tests use).
const ENTRY = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";
function cli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, ...args], { cwd: ROOT, encoding: 'utf8' });
}

const W = 40;
const H = 32;
const dir = mkdtempSync(join(tmpdir(), 'mmaerec-score-'));
const paths = { input: join(dir, 'in.png'), recon: join(dir, 'recon.png'), gray: join(dir, 'gray.png'), small: join(dir, 'small.png'), junk: join(dir, 'junk.png') };
const bytes: Record<'input' | 'recon', Uint8Array> = { input: new Uint8Array(), recon: new Uint8Array() };

beforeAll(async () => {
  const { input, recon } = imagePair(W, H, 21);
  for (const [key, data] of [['input', input], ['recon', recon]] as const) {
    bytes[key] = Uint8Array.from(data, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
    await sharp(bytes[key], { raw: { width: W, height: H, channels: 3 } }).png().toFile(paths[key]);
  }
  await sharp(bytes.input, { raw: { width: W, height: H, channels: 3 } }).toColourspace('b-w').png().toFile(paths.gray);
  await sharp(bytes.input, { raw: { width: W, height: H, channels: 3 } }).resize(20, 16).png().toFile(paths.small);
  writeFileSync(paths.junk, 'not an image');
});

describe('mmaerec-edge score', () => {
  it('--json prints score, width, height; the score is fusedScore of the decoded images', async () => {
    const r = cli('score', paths.input, paths.recon, '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['score', 'width', 'height']);
    expect([out.width, out.height]).toEqual([W, H]);
    const f = (b: Uint8Array) => Float32Array.from(b, (v) => v / 255);
    const expected = await fusedScore(f(bytes.input), f(bytes.recon), W, H);
    expect(Math.abs(out.score - expected.score)).toBeLessThan(1e-5);
    const custom = JSON.parse(cli('score', paths.input, paths.recon, '--json', '--scales', '2', '--mu', '0.01', '--border', 'zero', '--shading-window', '9').stdout);
    const expectedCustom = await fusedScore(f(bytes.input), f(bytes.recon), W, H, { scales: 2, mu: 0.01, border: 'zero', shadingWindow: 9 });
    expect(Math.abs(custom.score - expectedCustom.score)).toBeLessThan(1e-5);
  });

  it('--out writes a valid float32 .npy of the map (H×W)', async () => {
    const out = join(dir, 'map.npy');
    const r = cli('score', paths.input, paths.recon, '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^score \d+\.\d{1,4} \(40×32\), map written to /);
    const npy = readFileSync(out);
    expect(Array.from(npy.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerLen = npy.readUInt16LE(8);
    expect((10 + headerLen) % 64).toBe(0);
    const header = npy.subarray(10, 10 + headerLen).toString('latin1');
    expect(header).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(32, 40\), \} *\n$/);
    expect(npy.length).toBe(10 + headerLen + 4 * W * H);
    const map = new Float32Array(npy.buffer.slice(npy.byteOffset + 10 + headerLen, npy.byteOffset + npy.length));
    const f = (b: Uint8Array) => Float32Array.from(b, (v) => v / 255);
    expect(maxAbsDiff(map, (await fusedScore(f(bytes.input), f(bytes.recon), W, H)).map)).toBeLessThan(1e-6);
  });

  needs(tools.numpy()).it(
    'numpy loads the .npy (shape, dtype, values)',
    () => {
      const out = join(dir, 'map-np.npy');
      expect(cli('score', paths.input, paths.recon, '--out', out).status).toBe(0);
      const py = spawnSync('/usr/bin/python3', ['-c', `import numpy as np; a = np.load(${JSON.stringify(out)}); print(a.shape, a.dtype, float(a.max()))`], { encoding: 'utf8' });
      expect(py.status, py.stderr).toBe(0);
      const score = JSON.parse(cli('score', paths.input, paths.recon, '--json').stdout).score as number;
      const [shape, dtype, max] = [py.stdout.match(/^\((\d+), (\d+)\)/)!, py.stdout.split(' ')[2], Number(py.stdout.trim().split(' ').pop())];
      expect([Number(shape[1]), Number(shape[2]), dtype]).toEqual([H, W, 'float32']);
      expect(Math.abs(max - score)).toBeLessThan(1e-6);
    },
  );

  it('promotes grayscale to RGB: a gray copy of a gray image scores 0', () => {
    const r = cli('score', paths.gray, paths.gray, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).score).toBeCloseTo(0, 6);
    expect(cli('score', paths.gray, paths.input, '--json').status).toBe(0);
  });

  it('bad input: one line naming the problem, exit 1', () => {
    const cases: Array<[string[], RegExp]> = [
      [[join(dir, 'missing.png'), paths.recon], /^mmaerec-edge: cannot read image .*missing\.png: no such file; check the path\n$/],
      [[paths.junk, paths.recon], /^mmaerec-edge: cannot decode image .*junk\.png \(.*\): give a PNG, JPEG, TIFF or WebP file\n$/],
      [[paths.input, paths.small], /^mmaerec-edge: image sizes differ: .*in\.png is 40×32, .*small\.png is 20×16; score a reconstruction of the same size\n$/],
      [[paths.input, paths.recon, '--scales', 'x'], /^mmaerec-edge: --scales x is invalid: give an integer from 1 to 8\n$/],
      [[paths.input, paths.recon, '--mu', '-1'], /^mmaerec-edge: --mu -1 is invalid/],
      [[paths.input, paths.recon, '--border', 'mirror'], /^mmaerec-edge: --border mirror is invalid: give valid or zero\n$/],
      [[paths.input, paths.recon, '--shading-window', '8'], /^mmaerec-edge: --shading-window 8 is invalid: give 0 \(off\) or an odd number of pixels, e\.g\. 17\n$/],
      [[paths.small, paths.small, '--scales', '8'], /^mmaerec-edge: Image 20×16 is too small for 8 MSGMS scales/],
    ];
    for (const [args, message] of cases) {
      const r = cli('score', ...args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });

  it('refuses an image above the pixel limit of inspection from its header: one E_INPUT line, nothing decoded', async () => {
    // A valid 1×1 PNG whose IHDR then claims 16384×16384 (just above 16383²): a few bytes on disk.
    const png = Buffer.from(await sharp(Buffer.from([1, 2, 3]), { raw: { width: 1, height: 1, channels: 3 } }).png().toBuffer());
    png.writeUInt32BE(16384, 16);
    png.writeUInt32BE(16384, 20);
    png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
    const huge = join(dir, 'huge.png');
    writeFileSync(huge, png);
    expect((await sharp(huge, { limitInputPixels: false }).metadata()).width).toBe(16384);
    for (const args of [[huge, paths.recon], [paths.input, huge]]) {
      const r = cli('score', ...args);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `mmaerec-edge: image ${huge} is 16384×16384 = 268435456 pixels, above the limit of ${MAX_INPUT_PIXELS} (the same as inspection): crop or downscale it first\n`,
      );
    }
  });

  // The budget at 2000²: the two decoded images (2 × 12 B/px float RGB, used in place, no copy), the native
  // scorer's planes and scratch (≈ 55 B/px) and the map (4). Before: a float copy of each decoded image and an
  // encoded copy of the map for --out (≈ 86 B/px here).
  needs(tools.native()).it('peak memory stays under 85 bytes per pixel at 2000² with --out', async () => {
    const [w, h] = [2000, 2000];
    const noise = Buffer.alloc(w * h * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 7 + (i >> 11)) & 255;
    const big = { input: join(dir, 'big-in.png'), recon: join(dir, 'big-recon.png') };
    await sharp(noise, { raw: { width: w, height: h, channels: 3 } }).png().toFile(big.input);
    for (let i = 0; i < noise.length; i += 5) noise[i] ^= 3;
    await sharp(noise, { raw: { width: w, height: h, channels: 3 } }).png().toFile(big.recon);
    // The baseline after loading what score loads (sharp, the addon, the command), so that it is pixels only.
    const entry = `const { main } = await import('./src/cli/main.ts'); await import('./src/cli/commands/score.ts');
      (await import('./src/native.ts')).nativeAddon(); const base = process.memoryUsage().rss;
      process.exitCode = await main(process.argv.slice(1));
      process.stderr.write(JSON.stringify({ base, peak: process.resourceUsage().maxRSS * 1024 }) + '\\n');`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', entry, 'score', big.input, big.recon, '--out', join(dir, 'big.npy')], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const { base, peak } = JSON.parse(r.stderr.trim().split('\n').pop()!) as { base: number; peak: number };
    const perPixel = (peak - base) / (w * h);
    expect(perPixel, `${perPixel.toFixed(1)} bytes per pixel above the ${(base / 1e6).toFixed(0)} MB baseline`).toBeLessThan(85);
  });
});

/** PNG chunk CRC (ISO 3309 / zlib crc32). */
function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
