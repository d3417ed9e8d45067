import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corruptHuffmanJpeg } from '../helpers/corrupt-jpeg.js';
import { gradientPng, tinyBundle } from './helpers.js';
import { runCli, writeCliEntry, type CliResult } from '../helpers/cli.js';

// `inspect --heatmaps DIR` on the JPEG with a corrupt Huffman code: a verdict and a heatmap, not
// E_INFER with a raw libvips line (issue 15, item 1); --heatmap-max-edge bounds the heatmap (item 2).

const ROOT = path.resolve(import.meta.dirname, '../..');
let dir: string;
let entry: string;
let bundleDir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-inspect-heatmap-'));
  entry = await writeCliEntry(dir);
  bundleDir = (await tinyBundle(path.join(dir, 'bundle'))).dir;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<CliResult> {
  return runCli(entry, args);
}
const frameLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l && !/^scoring engine|^npm warn/.test(l));

describe('inspect --heatmaps', () => {
  it('a JPEG with a corrupt Huffman code: one verdict line with its heatmap, nothing on stderr', async () => {
    const { bytes, strictError } = await corruptHuffmanJpeg();
    expect(strictError).toMatch(/bad Huffman code/);
    const file = path.join(dir, 'huff.jpg');
    await writeFile(file, bytes);
    const heat = path.join(dir, 'heat-huff');
    const { code, stdout, stderr } = await cli(['inspect', bundleDir, file, '--heatmaps', heat]);
    expect([0, 2], stderr).toContain(code);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^(ok {4}|DEFECT) ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} {2}score \\d+\\.\\d{1,4} .* {2}heatmap ${heat.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/`));
    expect(frameLines(stderr)).toEqual([]);
    const [saved] = await readdir(heat);
    expect(await sharp(path.join(heat, saved!)).metadata()).toMatchObject({ width: 64, height: 64 });
  }, 60_000);

  it('--heatmap-max-edge bounds the heatmap; a bad value is one E_CONFIG line', async () => {
    const file = path.join(dir, 'wide.png');
    await writeFile(file, await gradientPng(200, 100));
    const heat = path.join(dir, 'heat-wide');
    const ok = await cli(['inspect', bundleDir, file, '--heatmaps', heat, '--heatmap-max-edge', '50']);
    expect([0, 2], ok.stderr).toContain(ok.code);
    const [saved] = await readdir(heat);
    expect(await sharp(path.join(heat, saved!)).metadata()).toMatchObject({ width: 50, height: 25 });
    const bad = await cli(['inspect', bundleDir, file, '--heatmaps', heat, '--heatmap-max-edge', '0']);
    expect(bad.code).toBe(1);
    expect(frameLines(bad.stderr)).toEqual(['mmaerec-edge: --heatmap-max-edge 0 is not an integer in 1..16384: give e.g. --heatmap-max-edge 1024']);
  }, 60_000);
});
