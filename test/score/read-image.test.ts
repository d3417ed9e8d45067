import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { MmaerecError } from '../../src/errors.js';
import { readRgbImage } from '../../src/score/score-files.js';

const dir = mkdtempSync(join(tmpdir(), 'mmaerec-read-'));
const raw = Uint8Array.from([0, 128, 255, 64, 32, 16]);
const scaled = (img: { data: Float32Array }) => Array.from(img.data, (v) => Math.round(v * 255 * 100) / 100);

describe('readRgbImage (the score CLI decoder)', () => {
  it('8-bit RGB, RGBA (alpha dropped), 16-bit RGB and gray (promoted) all give RGB in [0, 1]', async () => {
    const rgb = join(dir, 'rgb.png');
    await sharp(raw, { raw: { width: 2, height: 1, channels: 3 } }).png().toFile(rgb);
    expect(scaled(await readRgbImage(rgb))).toEqual([0, 128, 255, 64, 32, 16]);
    const rgba = join(dir, 'rgba.png');
    await sharp(raw, { raw: { width: 2, height: 1, channels: 3 } }).ensureAlpha(0.5).png().toFile(rgba);
    expect(scaled(await readRgbImage(rgba))).toEqual([0, 128, 255, 64, 32, 16]);
    const deep = join(dir, 'rgb16.png');
    await sharp(raw, { raw: { width: 2, height: 1, channels: 3 } }).toColourspace('rgb16').png().toFile(deep);
    expect((await sharp(deep).metadata()).depth).toBe('ushort');
    expect(scaled(await readRgbImage(deep))).toEqual([0, 128, 255, 64, 32, 16]);
    const gray = join(dir, 'gray.png');
    await sharp(Uint8Array.from([0, 200]), { raw: { width: 2, height: 1, channels: 1 } }).png().toFile(gray);
    const g = await readRgbImage(gray);
    expect([g.width, g.height]).toEqual([2, 1]);
    expect(scaled(g)).toEqual([0, 0, 0, 200, 200, 200]);
  });

  it('missing and undecodable files are E_INPUT errors naming the file and the fix', async () => {
    await expect(readRgbImage(join(dir, 'none.png'))).rejects.toThrow(new MmaerecError('E_INPUT', `cannot read image ${join(dir, 'none.png')}: no such file; check the path`));
    const junk = join(dir, 'junk.jpg');
    writeFileSync(junk, 'no pixels here');
    await expect(readRgbImage(junk)).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/^cannot decode image .*junk\.jpg \(.*\): give a PNG, JPEG, TIFF or WebP file$/) });
    await expect(readRgbImage(dir)).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringContaining('it is a directory') });
  });
});
