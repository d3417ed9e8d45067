// Writes the procedural surface dataset (MVTec layout) used for the demo bundle and the sample frames.
// Usage: node --import tsx scripts/make-surfaces.ts --out <dir> [--size 128] [--train 200] [--test-good 20]
//        [--test-defect 8] [--seed 1]
import { parseArgs } from 'node:util';
import { writeSurfaceDataset } from '../src/demo/write-surfaces.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    size: { type: 'string', default: '128' },
    train: { type: 'string', default: '200' },
    'test-good': { type: 'string', default: '20' },
    'test-defect': { type: 'string', default: '8' },
    seed: { type: 'string', default: '1' },
  },
});
if (!values.out) {
  console.error('make-surfaces: --out <dir> is required');
  process.exit(2);
}
const size = Number(values.size);
await writeSurfaceDataset({
  out: values.out,
  width: size,
  height: size,
  train: Number(values.train),
  testGood: Number(values['test-good']),
  testDefect: Number(values['test-defect']),
  seed: Number(values.seed),
});
console.log(`wrote surfaces to ${values.out}`);
