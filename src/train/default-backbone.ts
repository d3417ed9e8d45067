/**
 * The default recipe's pretrained backbone (issue 16 items 3, 8): without `--backbone`, `train` uses the
 * ImageNet-initialised MobileNetV2 that ships inside the `nsfwjs` npm package (MIT; a devDependency of this
 * project, `npm install nsfwjs@4.4.0` elsewhere), imported exactly as `import-backbone --format tfjs-layers` does.
 * On both development sets it beat every randomly initialised backbone measured (BENCHMARKS.md, "Detection
 * quality"). Where the package is not installed the backbone stays random, and the warning says how to fix it.
 */
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { importTfjsBackbone, type BackboneFileInfo } from '../model/import-backbone.js';
import type { WeightMap } from '../model/init.js';

/** Where nsfwjs@4 keeps the Keras MobileNetV2 (base64 shards in .min.js files). */
const MODEL_DIR = ['dist', 'models', 'mobilenet_v2'];

export interface DefaultBackbone {
  weights: WeightMap;
  info: BackboneFileInfo;
  /** How the bundle's provenance names it. */
  label: string;
}

/** The nsfwjs MobileNetV2, or the reason it is not available (a sentence naming the fix). */
export async function defaultBackbone(): Promise<DefaultBackbone | { missing: string }> {
  let root: string;
  try {
    // its exports map hides package.json: resolve the entry point and climb to the package folder
    root = createRequire(import.meta.url).resolve('nsfwjs');
    while (basename(root) !== 'nsfwjs' && dirname(root) !== root) root = dirname(root);
  } catch {
    return { missing: 'the default pretrained backbone comes from the nsfwjs package, which is not installed: npm install nsfwjs@4.4.0, or pass --backbone <file from import-backbone>' };
  }
  const imported = await importTfjsBackbone(join(root, ...MODEL_DIR), 'mobilenet_v2');
  return {
    weights: imported.weights,
    info: { arch: imported.arch, format: 'tfjs-layers', source: MODEL_DIR.join('/'), ...(imported.taps ? { taps: imported.taps } : {}), attribution: imported.attribution },
    label: `default: ${imported.attribution?.package ?? 'nsfwjs'} ${MODEL_DIR.join('/')}`,
  };
}
