import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/require-tool.js';

/**
 * `import 'mmaerec-edge'` must not load tfjs (design.md): walk the static import graph of the runtime entry
 * points (dynamic `import()` is lazy and allowed) and fail on any @tensorflow import.
 */
function staticGraph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const src = readFileSync(file, 'utf8');
    // also side-effect imports (`import '@tensorflow/tfjs-backend-cpu'`), the usual way a tfjs back end is registered
    const specs = [...src.matchAll(/^\s*(?:import|export)\s+(?:(?!type\b)[^'"]*?from\s+)?['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
    seen.set(file, specs);
    for (const s of specs) if (s.startsWith('.')) visit(resolve(dirname(file), s.replace(/\.js$/, '.ts')));
  };
  visit(resolve(ROOT, entry));
  return seen;
}

describe('runtime import graph', () => {
  it.each(['src/index.ts', 'src/model/bundle.ts', 'src/infer/registry.ts', 'src/infer/onnxruntime.ts'])('%s statically imports no tfjs', (entry) => {
    const graph = staticGraph(entry);
    expect(graph.size).toBeGreaterThan(0);
    const offenders = [...graph].filter(([, specs]) => specs.some((s) => s.startsWith('@tensorflow/'))).map(([f]) => f);
    expect(offenders).toEqual([]);
  });

  it('the check reads side-effect imports too', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mmaerec-no-tfjs-')), 'entry.ts');
    writeFileSync(file, "import '@tensorflow/tfjs-backend-cpu';\nimport type { X } from './x.js';\n");
    expect([...staticGraph(file).values()].flat()).toEqual(['@tensorflow/tfjs-backend-cpu']);
  });

  it('the check catches a static tfjs import (positive control: the training back-end chooser)', () => {
    const graph = staticGraph('src/train/backend.ts');
    expect([...graph.values()].flat()).toContain('@tensorflow/tfjs-core');
  });
});
