/** Reads a `--config` file (YAML or JSON) holding train options and, under `model`, network overrides. */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { MmaerecError } from '../errors.js';

export async function readTrainConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new MmaerecError('E_CONFIG', `cannot read --config ${path} (${(err as NodeJS.ErrnoException).code}): pass an existing YAML or JSON file`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new MmaerecError('E_CONFIG', `--config ${path} is not valid YAML/JSON (${(err as Error).message.split('\n')[0]}): fix the syntax`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new MmaerecError('E_CONFIG', `--config ${path} must hold a mapping of train options (see docs/training.md): wrap the options in an object`);
  }
  return value as Record<string, unknown>;
}
