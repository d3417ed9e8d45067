/**
 * bench:tensorrt — the TensorRT back end against ONNX Runtime on the same bundle and inputs, on the machine that
 * has the engine (a Jetson): ms/frame medians, and the largest difference between the two reconstructions.
 *
 *   npm run bench:tensorrt -- --model <bundle> [--engine <plan>] [--runs 50] [--json]
 *
 * Build the engine first (`npx mmaerec-edge build-engine --model <bundle> --fp16`). Where TensorRT or the engine is
 * not available it prints "SKIPPED: <why>" and exits 0: there is nothing to measure, and that is not a failure of
 * the machine. Figures are medians over `--runs` back-to-back runs after 5 warm-up runs.
 */
import { loadBundle } from '../src/model/bundle.js';
import { createOnnxRuntimeBackend } from '../src/infer/onnxruntime.js';
import { createTensorRTBackend } from '../src/infer/tensorrt.js';
import { runOutputs, type InferenceBackend } from '../src/infer/backend.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const model = arg('model');
if (!model) {
  console.error('usage: npm run bench:tensorrt -- --model <bundle> [--engine <plan>] [--runs 50] [--json]');
  process.exit(2);
}
const runs = Number(arg('runs') ?? '50');
const json = process.argv.includes('--json');
const engine = arg('engine');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const bundle = await loadBundle(model);
const { width, height } = bundle.manifest.input;
let state = 12345;
const rand = () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32);
const inputs = { image: new Float32Array(3 * width * height).map(rand), edge: new Float32Array(width * height).map(rand) };

let trt: InferenceBackend;
try {
  trt = await createTensorRTBackend(bundle, engine ? { engine } : {});
} catch (err) {
  console.log(`bench:tensorrt SKIPPED: ${(err as Error).message}`);
  process.exit(0);
}

async function time(backend: InferenceBackend): Promise<{ ms: number; recon: Float32Array }> {
  let recon: Float32Array = new Float32Array(0);
  for (let i = 0; i < 5; i++) recon = runOutputs(await backend.run(inputs)).recon;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    recon = runOutputs(await backend.run(inputs)).recon;
    times.push(performance.now() - t0);
  }
  return { ms: median(times), recon };
}

const t = await time(trt);
await trt.dispose();
const ort = await createOnnxRuntimeBackend(bundle, {});
const o = await time(ort);
await ort.dispose();
let maxDiff = 0;
for (let i = 0; i < t.recon.length; i++) maxDiff = Math.max(maxDiff, Math.abs(t.recon[i]! - o.recon[i]!));
const result = { model, input: `${width}x${height}`, runs, tensorrt: { name: trt.name, ms: t.ms }, onnxruntime: { name: ort.name, ms: o.ms }, maxAbsDiff: maxDiff };
if (json) console.log(JSON.stringify(result));
else {
  console.log(`${trt.name}: ${t.ms.toFixed(2)} ms/frame (median of ${runs})`);
  console.log(`${ort.name}: ${o.ms.toFixed(2)} ms/frame`);
  console.log(`max |recon difference|: ${maxDiff.toExponential(2)}`);
}
