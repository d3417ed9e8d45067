import { z } from 'zod';

/**
 * Renders a zod schema as a Markdown reference table (one row per setting: path, type, default, meaning),
 * so the configuration reference in docs/ is generated from the same schemas that validate configs and
 * cannot drift from them (a test compares the committed file with a fresh rendering).
 */
type Json = { [key: string]: unknown };

interface Row {
  path: string;
  type: string;
  def: string;
  description: string;
}

function typeOf(s: Json): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (Array.isArray(s.enum)) return s.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  const alts = (s.anyOf ?? s.oneOf) as Json[] | undefined;
  if (alts) return alts.map(typeOf).join(' \\| ');
  if (s.type === 'array') return `array of ${s.items ? typeOf(s.items as Json) : 'values'}`;
  const bounds: string[] = [];
  if (typeof s.minimum === 'number') bounds.push(`≥ ${s.minimum}`);
  if (typeof s.exclusiveMinimum === 'number') bounds.push(`> ${s.exclusiveMinimum}`);
  if (typeof s.maximum === 'number' && s.maximum < Number.MAX_SAFE_INTEGER) bounds.push(`≤ ${s.maximum}`);
  if (typeof s.exclusiveMaximum === 'number') bounds.push(`< ${s.exclusiveMaximum}`);
  return `${String(s.type ?? 'any')}${bounds.length ? ` (${bounds.join(', ')})` : ''}`;
}

function walk(s: Json, path: string, rows: Row[], required: boolean): void {
  const variants = (s.oneOf ?? s.anyOf) as Json[] | undefined;
  if (variants && variants.every((v) => v.type === 'object' && v.properties)) {
    for (const v of variants) {
      const tag = Object.entries(v.properties as Record<string, Json>).find(([, p]) => p.const !== undefined);
      walk(v, tag ? `${path} (${tag[0]}: ${JSON.stringify(tag[1].const)})` : path, rows, required);
    }
    return;
  }
  if (s.type === 'object' && s.properties) {
    const req = new Set((s.required as string[] | undefined) ?? []);
    for (const [key, child] of Object.entries(s.properties as Record<string, Json>)) {
      walk(child, path ? `${path}.${key}` : key, rows, req.has(key));
    }
    return;
  }
  const def = s.default === undefined ? (required ? 'required' : '—') : `\`${JSON.stringify(s.default)}\``;
  rows.push({ path, type: typeOf(s), def, description: String(s.description ?? '').replace(/\n/g, ' ') });
}

export function schemaReference(schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  const rows: Row[] = [];
  walk(json, '', rows, true);
  const escape = (t: string) => t.replace(/\|/g, '\\|');
  return [
    '| setting | type | default | meaning |',
    '|---|---|---|---|',
    ...rows.map((r) => `| \`${r.path}\` | ${r.type} | ${r.def} | ${escape(r.description)} |`),
  ].join('\n');
}
