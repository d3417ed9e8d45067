import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBundle, writeBundle, type LoadedBundle } from '../../src/model/bundle.js';
import { presetConfig } from '../../src/model/config.js';
import { buildNetwork } from '../../src/model/network.js';
import { ONNX_OPSET } from '../../src/model/onnx-writer.js';
import { PYTHON, needs, tools } from '../helpers/require-tool.js';

let dir: string;
const bundles: Record<string, LoadedBundle> = {};
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-onnx-'));
  for (const attention of ['ca', 'se', 'cbam', 'none'] as const) {
    const config = presetConfig('paper', { inputSize: 32, attention, backbone: { widthDivisor: 16 }, levelChannels: [8, 16, 32, 64], headChannels: 4 });
    bundles[attention] = await writeBundle(join(dir, attention), await createBundle({ config }));
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SCRIPT = `
import json, sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
g = m.graph
shape = lambda v: [d.dim_value for d in v.type.tensor_type.shape.dim]
print(json.dumps({
  "opset": [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")],
  "ir": m.ir_version,
  "inputs": {v.name: shape(v) for v in g.input},
  "outputs": {v.name: shape(v) for v in g.output},
  "initializers": sorted(t.name for t in g.initializer),
  "ops": sorted(set(n.op_type for n in g.node)),
  "convWithComputedWeights": [n.name for n in g.node if n.op_type == "Conv" and n.input[1] not in {t.name for t in g.initializer}],
  "unusedInitializers": sorted({t.name for t in g.initializer} - {i for n in g.node for i in n.input}),
}))
`;

needs(tools.onnx()).describe('ONNX export (checked by the onnx package)', () => {
  it.each(['ca', 'se', 'cbam', 'none'])('attention %s: passes onnx.checker (full_check) with the agreed I/O', (attention) => {
    const b = bundles[attention]!;
    const r = spawnSync(PYTHON, ['-c', SCRIPT, b.paths.onnx], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.opset).toEqual([ONNX_OPSET]);
    expect(info.ir).toBe(8);
    expect(info.inputs).toEqual({ image: [1, 3, 32, 32], edge: [1, 1, 32, 32] });
    expect(info.outputs).toEqual({ recon: [1, 3, 32, 32] });
    // Every weight is an initializer under its safetensors name; each memory as its two derived constants.
    const names = new Set(info.initializers);
    for (const p of buildNetwork(b.config).params) {
      if (p.name.startsWith('memory.')) {
        expect(names.has(`${p.name}:cosine`) && names.has(`${p.name}:readout`) && !names.has(p.name), p.name).toBe(true);
      } else expect(names.has(p.name), p.name).toBe(true);
    }
    // TensorRT's parser wants constant conv weights; nothing is exported that no node reads.
    expect(info.convWithComputedWeights).toEqual([]);
    expect(info.unusedInitializers).toEqual([]);
    expect(info.ops).toContain('BatchNormalization');
    expect(info.ops).toContain('Resize');
  });
});
