import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readDataset, sample } from '../../src/eval/dataset.js';
import { writeSyntheticDataset } from './synthetic.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'mmaerec-eval-ds-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('readDataset', () => {
  test('reads the MVTec layout: keys, labels, masks, unmasked defects', async () => {
    const root = await writeSyntheticDataset(join(dir, 'ok'), { unmasked: 1 });
    const ds = await readDataset(root);
    expect(ds.defects).toEqual(['scratch', 'spot']);
    expect(ds.trainGood).toHaveLength(2);
    expect(ds.test.map((i) => i.key)).toEqual([
      'good/g0', 'good/g1', 'good/g2', 'good/g3', 'scratch/scratch0', 'scratch/scratch1', 'scratch/scratch2', 'spot/spot0', 'spot/spot1', 'spot/spot2',
    ]);
    expect(ds.test.filter((i) => i.label === 1)).toHaveLength(6);
    expect(ds.unmasked).toEqual(['spot/spot2']);
    expect(ds.test.find((i) => i.key === 'spot/spot0')!.maskPath).toMatch(/ground_truth\/spot\/spot0_mask\.png$/);
  });
  test('--limit keeps an evenly spaced, deterministic subset and says so', async () => {
    const ds = await readDataset(join(dir, 'ok'), { limit: 2 });
    expect(ds.test.filter((i) => i.defect === 'good').map((i) => i.stem)).toEqual(['g0', 'g2']);
    expect(ds.limited).toContain('test/good: 2 of 4');
    expect(sample([1, 2, 3, 4, 5, 6, 7], 3)).toEqual([1, 3, 5]);
  });
  test('a folder not in the layout: E_DATA naming what was expected and what was found', async () => {
    const bad = join(dir, 'flat');
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, 'a.png'), '');
    await mkdir(join(bad, 'images'));
    const err = await readDataset(bad).catch((e) => e);
    expect(err.code).toBe('E_DATA');
    expect(err.message).toMatch(/has no test\/ folder; expected train\/good\/, test\/good\/, test\/<defect>\/ and ground_truth\/<defect>\/<stem>_mask\.png .* but found images\/, a\.png: point --data/);
  });
  test('missing test/good, stray images in test/, mask folder without test folder, sub-folders, empty folder', async () => {
    const mk = async (name: string, dirs: string[], files: string[] = []) => {
      const root = join(dir, name);
      for (const d of dirs) await mkdir(join(root, d), { recursive: true });
      for (const f of files) await writeFile(join(root, f), 'x');
      return root;
    };
    await expect(readDataset(await mk('nogood', ['test/crack'], ['test/crack/a.png']))).rejects.toThrow(/no test\/good\/ folder .* found test\/ holding crack\//);
    await expect(readDataset(await mk('stray', ['test/good'], ['test/x.png', 'test/good/a.png']))).rejects.toThrow(/images directly in test\/ \(x\.png, …\)/);
    await expect(readDataset(await mk('gt', ['test/good', 'ground_truth/crack'], ['test/good/a.png']))).rejects.toThrow(/ground_truth\/crack\/ but no test\/crack\//);
    await expect(readDataset(await mk('sub', ['test/good/more'], ['test/good/a.png']))).rejects.toThrow(/sub-folder test\/good\/more\//);
    await expect(readDataset(await mk('empty', ['test/good', 'test/crack'], ['test/good/a.png', 'test/crack/notes.txt']))).rejects.toThrow(/no images in test\/crack\/;.* found test\/crack\/ holding notes\.txt/);
    await expect(readDataset(await mk('dup', ['test/good'], ['test/good/a.png', 'test/good/a.jpg']))).rejects.toThrow(/both a\.jpg and a\.png: image stems must be unique/);
    await expect(readDataset(join(dir, 'nope'))).rejects.toThrow(/does not exist or is not readable/);
    await expect(readDataset(await mk('trainonly', ['test/good'], ['test/good/a.png']), { require: 'train' })).rejects.toThrow(/has no train\/good\/ folder/);
  });
});
