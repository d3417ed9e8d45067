import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MmaerecError } from '../errors.js';
import { eventJsonSchemas } from './events.js';

/** Short names accepted by `mmaerec-edge schema --event`. */
export const EVENT_NAMES = { inspection: 'mmaerec.inspection/1', error: 'mmaerec.error/1', status: 'mmaerec.status/1', model: 'mmaerec.model/1' } as const;

/** The JSON Schemas to print: all of them keyed by schema name, or one. */
export function selectJsonSchemas(event?: string): unknown {
  const all = eventJsonSchemas();
  if (event === undefined) return all;
  const name = EVENT_NAMES[event as keyof typeof EVENT_NAMES];
  if (!name) throw new MmaerecError('E_CONFIG', `--event "${event}" is not an event: use ${Object.keys(EVENT_NAMES).join(', ')}`);
  return all[name];
}

/** Writes one `<name>.schema.json` per event (e.g. mmaerec.inspection.v1.schema.json); returns the paths. */
export async function writeJsonSchemas(dir: string): Promise<string[]> {
  try {
    await mkdir(dir, { recursive: true });
    const paths: string[] = [];
    for (const [name, schema] of Object.entries(eventJsonSchemas())) {
      const path = join(dir, `${name.replace('/', '.v')}.schema.json`);
      await writeFile(path, JSON.stringify(schema, null, 2) + '\n');
      paths.push(path);
    }
    return paths;
  } catch (err) {
    throw new MmaerecError('E_IO', `cannot write the schemas to "${dir}" (${(err as NodeJS.ErrnoException).code ?? String(err)}): give a writable --out directory`, { cause: err });
  }
}
