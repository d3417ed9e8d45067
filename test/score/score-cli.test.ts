import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { fusedScore } from '../../src/score/fused.js';
import { imagePair, maxAbsDiff } from './helpers.js';

// Through main() as bin/mmaerec-edge.js calls it (the same entry the other CLI tests use).
const ENTRY = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";
function cli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, ...args], { cwd: process.cwd(), encoding: 'utf8' });
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
    expect(r.stdout).toMatch(/^score \d+\.\d{6} \(40×32\), map written to /);
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

  it.skipIf(!existsSync('/usr/bin/python3') || spawnSync('/usr/bin/python3', ['-c', 'import numpy']).status !== 0)(
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
});
