import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { MmaerecError } from '../errors.js';
import { createBundle, writeBundle, type LoadedBundle } from './bundle.js';
import { parseModelConfig, presetConfig, type ModelConfig } from './config.js';
import { importBackbone } from './import-backbone.js';

export interface CreateFromFilesOptions {
  preset?: string;
  /** JSON or YAML: a full config, or overrides of `preset`. */
  configFile?: string;
  /** A torchvision-named (or import-backbone output) .safetensors for the config's backbone arch. */
  backboneFile?: string;
  out: string;
  seed?: number;
  name?: string;
}

/** Reads a JSON or YAML config file into an object. */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new MmaerecError('E_CONFIG', `${path}: cannot read config (${(err as NodeJS.ErrnoException).code}): check the path`);
  }
  let value: unknown;
  try {
    value = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new MmaerecError('E_CONFIG', `${path}: not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'} (${(err as Error).message.split('\n')[0]}): fix the syntax`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new MmaerecError('E_CONFIG', `${path}: expected a mapping of config fields: see docs/architecture.md`);
  return value as Record<string, unknown>;
}

/** Resolves the config from a preset and/or a config file (the file overrides the preset). */
export async function resolveConfig(preset: string | undefined, configFile: string | undefined): Promise<ModelConfig> {
  const file = configFile ? await readConfigFile(configFile) : undefined;
  if (preset) return presetConfig(preset, file ?? {});
  if (file) return parseModelConfig(file, configFile);
  throw new MmaerecError('E_CONFIG', 'no network config: pass --preset lite|paper and/or --config <file>');
}

/** `create`: a bundle with initialised weights (and an imported backbone when given). */
export async function createBundleFromFiles(o: CreateFromFilesOptions): Promise<{ bundle: LoadedBundle; warnings: string[] }> {
  const config = await resolveConfig(o.preset, o.configFile);
  let weights;
  let backboneSource: string | undefined;
  let attribution: Record<string, unknown> | undefined;
  if (o.backboneFile) {
    const imported = await importBackbone(o.backboneFile, config.backbone.arch, config.backbone.widthDivisor, config.backbone.taps);
    weights = imported.weights;
    backboneSource = `imported from ${o.backboneFile}`;
    attribution = imported.attribution;
  }
  const contents = await createBundle({
    config,
    ...(weights ? { weights } : {}),
    ...(backboneSource ? { backboneSource } : {}),
    ...(attribution ? { backboneAttribution: attribution } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.name ? { name: o.name } : {}),
    provenance: { createdBy: 'mmaerec-edge create', preset: o.preset ?? null },
  });
  return { bundle: await writeBundle(o.out, contents), warnings: contents.warnings };
}
