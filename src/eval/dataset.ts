import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { MmaerecError } from '../errors.js';

/**
 * Reader for datasets in MVTec AD layout:
 *
 *   <root>/train/good/*.png                      defect-free training images
 *   <root>/test/good/*.png                       defect-free test images (label 0)
 *   <root>/test/<defect>/*.png                   defective test images (label 1), one folder per defect type
 *   <root>/ground_truth/<defect>/<stem>_mask.png  pixel masks (nonzero = defect); `<stem>.png` is accepted too (BTAD)
 *
 * Images may be any format sharp reads, grayscale or colour, of varying sizes. A defective image without a mask
 * is scored at image level only and listed in `unmasked`. Files whose names start with '.' are ignored.
 */
export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp']);

export const LAYOUT_HINT =
  'expected train/good/, test/good/, test/<defect>/ and ground_truth/<defect>/<stem>_mask.png (MVTec AD layout)';

export interface DatasetImage {
  /** "<defect>/<stem>", e.g. "crack/exp1_num_4", or "good/exp0_num_7": the key of scores.json / labels.json. */
  key: string;
  /** "good" or the defect type. */
  defect: string;
  stem: string;
  path: string;
  label: 0 | 1;
  /** Ground-truth mask; absent for good images (all normal) and for defective images without one. */
  maskPath?: string;
}

export interface Dataset {
  root: string;
  /** train/good image paths (empty when there is no train/ folder). */
  trainGood: string[];
  /** Test images: good first, then each defect type in name order; stems in name order. */
  test: DatasetImage[];
  /** Defect types, in name order. */
  defects: string[];
  /** Keys of defective test images that have no mask (scored at image level only). */
  unmasked: string[];
  /** Masks whose image does not exist (ignored), as paths relative to the root. */
  orphanMasks: string[];
  /** Folders that were sampled by `limit`: "<folder>: <kept> of <total>". */
  limited: string[];
}

export interface ReadDatasetOptions {
  /** At most this many images per test folder (and of train/good), evenly spaced over the sorted names. */
  limit?: number;
  /** Which parts must exist: 'test' (eval, calibrate --rule f1) or 'train' (train/good only). Default 'test'. */
  require?: 'test' | 'train';
}

function layoutError(root: string, problem: string, found: string): MmaerecError {
  return new MmaerecError('E_DATA', `${root} ${problem}; ${LAYOUT_HINT}, but found ${found}: point --data at such a folder or fix the layout`);
}

async function entries(dir: string): Promise<{ dirs: string[]; files: string[] } | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  const dirs: string[] = [];
  const files: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    ((await stat(join(dir, name))).isDirectory() ? dirs : files).push(name);
  }
  return { dirs, files };
}

function describeListing(listing: { dirs: string[]; files: string[] } | undefined): string {
  if (!listing) return 'no such folder';
  const all = [...listing.dirs.map((d) => `${d}/`), ...listing.files];
  if (all.length === 0) return 'an empty folder';
  return all.slice(0, 8).join(', ') + (all.length > 8 ? `, … (${all.length} entries)` : '');
}

/** Evenly spaced pick of `limit` items (deterministic, spans the whole sorted list). */
export function sample<T>(items: T[], limit: number | undefined): T[] {
  if (limit === undefined || items.length <= limit) return items;
  return Array.from({ length: limit }, (_, i) => items[Math.floor((i * items.length) / limit)]!);
}

/** Image files of a folder that must hold images only (no sub-folders); stems must be unique. */
async function imagesIn(root: string, rel: string): Promise<{ stem: string; path: string }[]> {
  const listing = (await entries(join(root, rel)))!;
  if (listing.dirs.length) {
    throw layoutError(root, `has sub-folder ${rel}/${listing.dirs[0]}/ where images were expected`, `${rel}/ holding ${describeListing(listing)}`);
  }
  const images = listing.files.filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase()));
  const seen = new Map<string, string>();
  for (const file of images) {
    const stem = file.slice(0, file.length - extname(file).length);
    const other = seen.get(stem);
    if (other) {
      throw new MmaerecError('E_DATA', `${join(root, rel)} holds both ${other} and ${file}: image stems must be unique within a folder; remove one`);
    }
    seen.set(stem, file);
  }
  return [...seen].map(([stem, file]) => ({ stem, path: join(root, rel, file) }));
}

/** Reads and checks the layout (names only: images are decoded later). Problems → E_DATA naming what was found. */
export async function readDataset(rootDir: string, options: ReadDatasetOptions = {}): Promise<Dataset> {
  const root = resolve(rootDir);
  const { limit, require = 'test' } = options;
  const top = await entries(root);
  if (!top) throw new MmaerecError('E_DATA', `dataset folder ${root} does not exist or is not readable: pass the folder that holds train/, test/ and ground_truth/`);
  const limited: string[] = [];
  const pick = <T>(folder: string, items: T[]): T[] => {
    const kept = sample(items, limit);
    if (kept.length < items.length) limited.push(`${folder}: ${kept.length} of ${items.length}`);
    return kept;
  };

  let trainGood: string[] = [];
  if (top.dirs.includes('train')) {
    const train = await entries(join(root, 'train'));
    if (!train!.dirs.includes('good')) throw layoutError(root, 'has a train/ folder without train/good/', `train/ holding ${describeListing(train)}`);
    trainGood = pick('train/good', (await imagesIn(root, 'train/good')).map((i) => i.path));
  } else if (require === 'train') {
    throw layoutError(root, 'has no train/good/ folder', describeListing(top));
  }

  const test: DatasetImage[] = [];
  const defects: string[] = [];
  const unmasked: string[] = [];
  const orphanMasks: string[] = [];
  const testListing = top.dirs.includes('test') ? await entries(join(root, 'test')) : undefined;
  if (!testListing) {
    if (require === 'test') throw layoutError(root, 'has no test/ folder', describeListing(top));
    return { root, trainGood, test, defects, unmasked, orphanMasks, limited };
  }
  const strayImages = testListing.files.filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase()));
  if (strayImages.length) {
    throw layoutError(root, `has images directly in test/ (${strayImages[0]}, …) instead of test/good/ or test/<defect>/`, `test/ holding ${describeListing(testListing)}`);
  }
  if (!testListing.dirs.includes('good')) {
    throw layoutError(root, 'has no test/good/ folder (defect-free test images are needed for every metric)', `test/ holding ${describeListing(testListing)}`);
  }
  const gtListing = top.dirs.includes('ground_truth') ? await entries(join(root, 'ground_truth')) : undefined;
  for (const gtDir of gtListing?.dirs ?? []) {
    if (gtDir !== 'good' && !testListing.dirs.includes(gtDir)) {
      throw layoutError(root, `has ground_truth/${gtDir}/ but no test/${gtDir}/`, `test/ holding ${describeListing(testListing)}`);
    }
  }
  for (const folder of ['good', ...testListing.dirs.filter((d) => d !== 'good')]) {
    const images = await imagesIn(root, `test/${folder}`);
    if (images.length === 0) throw layoutError(root, `has no images in test/${folder}/`, `test/${folder}/ holding ${describeListing(await entries(join(root, 'test', folder)))}`);
    if (folder === 'good') {
      for (const { stem, path } of pick('test/good', images)) test.push({ key: `good/${stem}`, defect: 'good', stem, path, label: 0 });
      continue;
    }
    defects.push(folder);
    const masks = new Map<string, string>();
    if (gtListing?.dirs.includes(folder)) {
      for (const { stem, path } of await imagesIn(root, `ground_truth/${folder}`)) masks.set(stem, path);
    }
    const stems = new Set(images.map((i) => i.stem));
    for (const maskStem of masks.keys()) {
      const imageStem = maskStem.endsWith('_mask') ? maskStem.slice(0, -5) : maskStem;
      if (!stems.has(imageStem)) orphanMasks.push(`ground_truth/${folder}/${maskStem}`);
    }
    for (const { stem, path } of pick(`test/${folder}`, images)) {
      const maskPath = masks.get(`${stem}_mask`) ?? masks.get(stem);
      const key = `${folder}/${stem}`;
      if (!maskPath) unmasked.push(key);
      test.push({ key, defect: folder, stem, path, label: 1, ...(maskPath ? { maskPath } : {}) });
    }
  }
  return { root, trainGood, test, defects, unmasked, orphanMasks, limited };
}
