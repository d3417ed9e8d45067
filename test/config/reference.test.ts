import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { configurationReference } from '../../src/config/reference-doc.js';
import { schemaReference } from '../../src/config/reference.js';

describe('configuration reference', () => {
  it('renders paths, types, defaults and meanings of a schema', () => {
    const schema = z.strictObject({
      url: z.string().describe('broker URL'),
      qos: z.literal([1, 2]).default(1),
      spool: z.strictObject({ kind: z.enum(['disk', 'memory']).default('disk'), maxBytes: z.number().int().positive().optional() }),
      source: z.discriminatedUnion('type', [
        z.object({ type: z.literal('files'), path: z.string() }),
        z.object({ type: z.literal('memory') }),
      ]),
    });
    const table = schemaReference(schema).split('\n');
    expect(table).toContain('| `url` | string | required | broker URL |');
    expect(table).toContain('| `qos` | `1` \\| `2` | `1` |  |');
    expect(table).toContain('| `spool.kind` | `"disk"` \\| `"memory"` | `"disk"` |  |');
    expect(table).toContain('| `spool.maxBytes` | integer (> 0) | — |  |');
    expect(table).toContain('| `source (type: "files").path` | string | required |  |');
    expect(table).toContain('| `source (type: "memory").type` | `"memory"` | required |  |');
  });

  it('docs/configuration.md is what the schemas generate (regenerate: node --import tsx scripts/gen-config-reference.ts)', () => {
    const committed = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(committed).toBe(configurationReference());
  });

  it('every setting has a meaning (fill the schema\'s .describe())', () => {
    const rows = configurationReference().split('\n').filter((l) => l.startsWith('| `'));
    expect(rows.length).toBeGreaterThan(150);
    expect(rows.filter((l) => / \|  \|$/.test(l))).toEqual([]);
  });
});
