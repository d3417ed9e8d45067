import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { MmaerecError } from '../errors.js';
import { scoringSchema, type ScoringOptions } from '../model/manifest.js';
import { resolveScoringOptions } from '../score/fused.js';

/**
 * The `--scoring` flag of eval: scoring keys to use instead of the bundle's (or the reference's defaults), as an
 * inline YAML/JSON mapping (`'{shadingWindow: 17, aggregation: {kind: max, margin: 0.08}}'`) or the path of a
 * YAML/JSON file holding one. Unknown keys and invalid values are E_CONFIG errors naming the key.
 */
export async function readScoringOverride(value: string): Promise<Partial<ScoringOptions>> {
  const inline = value.trim().startsWith('{');
  let text = value;
  if (!inline) {
    try {
      text = await readFile(value, 'utf8');
    } catch (err) {
      throw new MmaerecError('E_CONFIG', `--scoring ${value}: cannot read it (${(err as NodeJS.ErrnoException).code}): pass an inline mapping like '{shadingWindow: 17}' or a YAML/JSON file`);
    }
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new MmaerecError('E_CONFIG', `--scoring ${inline ? 'mapping' : value} is not valid YAML/JSON (${(err as Error).message.split('\n')[0]}): fix the syntax`);
  }
  const checked = scoringSchema.partial().strict().safeParse(parsed);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new MmaerecError('E_CONFIG', `--scoring: ${issue.path.join('.') || '(root)'}: ${issue.message}: fix that key (docs/configuration.md lists the scoring keys)`);
  }
  // Only the keys given: zod fills the schema's defaults into a partial too, which would reset the bundle's.
  const given = Object.fromEntries(Object.keys(parsed as object).map((k) => [k, (checked.data as Record<string, unknown>)[k]])) as Partial<ScoringOptions>;
  try {
    resolveScoringOptions(given);
  } catch (err) {
    throw new MmaerecError('E_CONFIG', `--scoring: ${(err as Error).message}`);
  }
  return given;
}
