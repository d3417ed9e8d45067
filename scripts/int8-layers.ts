/**
 * Which layer classes cost a bundle's INT8 model its accuracy: calibrates once, then writes the INT8 model with
 * each class of ops kept float in turn and compares it with the FP32 model on held-out images.
 *
 *   npx tsx scripts/int8-layers.ts --model <bundle> --calib <good images> --test <images> [--limit 32]
 *       [--images 12] [--runs 0] [--only 0,1,…] [--percentile 99.99]
 *
 * Per variant: mean |Δrecon| (and the test's relative measure: mean |Δrecon| ÷ the mean deviation of the FP32
 * reconstruction from its mean; quantize.test.ts bounds it at 0.08), mean |ΔfeatureDistance| ÷ mean
 * featureDistance for a feature-bank bundle, the number of int8 convs, and with --runs N the median CPU ms per run
 * of FP32 and INT8 (one intra-op thread, runs alternating; CPU time rather than wall time, which a shared machine's
 * load inflates) and their ratio. `--test` is searched recursively (an MVTec test
 * folder); images are taken evenly spread over the sorted list. `--only` takes variant numbers (0 = the default
 * plan). The bundle is only read.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadBundle, loadBundleWeights } from '../src/model/bundle.js';
import { foldBatchNorms } from '../src/model/fold-batchnorm.js';
import { buildNetwork } from '../src/model/network.js';
import { writeOnnx } from '../src/model/onnx-writer.js';
import { planQuantization, type PlanOptions } from '../src/model/quantize/plan.js';
import { calibrateRanges, createSession, feeds, loadOrt, planActivations } from '../src/model/quantize/quantize-bundle.js';
import { calibrationSamples } from '../src/model/quantize/samples.js';
import { prepareFrame } from '../src/preprocess/preprocess.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const model = arg('model', '');
const calib = arg('calib', '');
const test = arg('test', '');
if (!model || !calib || !test) {
  process.stderr.write('usage: npx tsx scripts/int8-layers.ts --model <bundle> --calib <good images> --test <images> [--limit 32] [--images 12] [--runs 0] [--only 0,1,…] [--percentile 99.99]\n');
  process.exit(2);
}
const limit = Number(arg('limit', '32'));
const count = Number(arg('images', '12'));
const runs = Number(arg('runs', '0'));
const only = arg('only', '').split(',').filter(Boolean);
const percentile = Number(arg('percentile', '99.99'));

const bundle = await loadBundle(model);
const { width, height } = bundle.manifest.input;
const ort = await loadOrt();
const folded = foldBatchNorms(buildNetwork(bundle.config), await loadBundleWeights(bundle));
const { graph } = folded;
const convs = graph.nodes.filter((n) => n.spec.op === 'conv');
const names = (f: (n: (typeof convs)[number]) => boolean) => convs.filter(f).map((n) => n.name);
const depthwise = names((n) => n.spec.op === 'conv' && (n.spec.groups ?? 1) > 1);
const backbone1x1 = names((n) => n.name.startsWith('backbone.') && n.spec.op === 'conv' && n.spec.kernel === 1);

/** Each variant: plan options (what stays float beyond the default plan, or what the default keeps float goes int8). */
const variants: [string, PlanOptions][] = [
  ['default', {}],
  ['bank-int8', { bankFloat: false }],
  ['bank-int8, depthwise float', { bankFloat: false, floatConvs: depthwise }],
  ['bank-int8, backbone 1×1 float', { bankFloat: false, floatConvs: backbone1x1 }],
  ['backbone float', { floatConvs: ['backbone.'] }],
  ['adds float', { adds: false }],
  ['edge float', { floatConvs: ['edge.'] }],
  ['proj float', { floatConvs: ['proj.'] }],
  ['decoder float', { floatConvs: ['decoder.'] }],
  ['decoder head float', { floatConvs: ['decoder.head.'] }],
  ['backbone float, decoder float', { floatConvs: ['backbone.', 'decoder.'] }],
];

const full = planQuantization(graph, { bankFloat: false });
const calibration = await calibrationSamples(calib, limit, { width, height, tiling: bundle.manifest.input.tiling });
process.stderr.write(`calibrating ${full.calibrated.length} values on ${calibration.samples.length} samples …\n`);
const ranges = await calibrateRanges(ort, folded, full.calibrated, calibration.samples, { width, height, threads: 1, rule: 'percentile', percentile });

async function imagesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await imagesUnder(p)));
    else if (/\.(png|jpe?g|bmp|tiff?)$/i.test(e.name)) out.push(p);
  }
  return out.sort();
}
const all = await imagesUnder(test);
const files = Array.from({ length: Math.min(count, all.length) }, (_, i) => all[Math.floor((i * all.length) / Math.min(count, all.length))]!);
const inputs = [];
for (const f of files) inputs.push(await prepareFrame({ id: f, capturedAt: 0, image: await readFile(f) }, width, height));

const fp32 = await createSession(ort, bundle.paths.onnx, 1, 'float model');
const reference = [];
for (const x of inputs) reference.push(await fp32.run(feeds(ort, x, width, height)));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

process.stdout.write(`bundle ${model}: ${convs.length} convs (${depthwise.length} depthwise), ${files.length} held-out images from ${test}, ${calibration.samples.length} calibration samples, percentile ${percentile}\n`);
process.stdout.write('| float beyond the default | int8 convs | mean |Δrecon| | ÷ recon spread | mean |ΔfeatureDistance| ÷ mean | FP32 CPU ms | INT8 CPU ms | FP32 ÷ INT8 |\n|---|---|---|---|---|---|---|---|\n');
for (const [label, options] of variants) {
  if (only.length && !only.includes(String(variants.findIndex(([l]) => l === label)))) continue;
  const plan = planQuantization(graph, options);
  const int8Model = writeOnnx(graph, folded.weights, { inputSize: width, qdq: { activations: planActivations(plan, ranges), convs: plan.convs } });
  const int8 = await createSession(ort, int8Model, 1, 'INT8 model');
  let [dr, spread, n, dd, dsum, dn] = [0, 0, 0, 0, 0, 0];
  for (const [i, x] of inputs.entries()) {
    const out = await int8.run(feeds(ort, x, width, height));
    const a = reference[i]!.recon!.data as Float32Array;
    const b = out.recon!.data as Float32Array;
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    for (let k = 0; k < a.length; k++) {
      dr += Math.abs(a[k]! - b[k]!);
      spread += Math.abs(a[k]! - mean);
    }
    n += a.length;
    const fa = reference[i]!.featureDistance?.data as Float32Array | undefined;
    if (fa) {
      const fb = out.featureDistance!.data as Float32Array;
      for (let k = 0; k < fa.length; k++) {
        dd += Math.abs(fa[k]! - fb[k]!);
        dsum += fa[k]!;
      }
      dn += fa.length;
    }
  }
  let speed = '— | — | —';
  if (runs > 0) {
    // CPU time of each run (one intra-op thread, so ≈ the work itself): steadier than wall time on a shared machine.
    const t = { fp32: [] as number[], int8: [] as number[] };
    const f = feeds(ort, inputs[0]!, width, height);
    for (let r = 0; r < runs + 1; r++) {
      for (const [k, s] of [['fp32', fp32], ['int8', int8]] as const) {
        const c0 = process.cpuUsage();
        await s.run(f);
        const c = process.cpuUsage(c0);
        if (r > 0) t[k].push((c.user + c.system) / 1000);
      }
    }
    speed = `${median(t.fp32).toFixed(1)} | ${median(t.int8).toFixed(1)} | ${(median(t.fp32) / median(t.int8)).toFixed(2)}×`;
  }
  await int8.release();
  const bank = dn ? `${(dd / dn).toFixed(4)} ÷ ${(dsum / dn).toFixed(3)} = ${(dd / dsum).toFixed(4)}` : '—';
  process.stdout.write(`| ${label} | ${plan.convs.size} | ${(dr / n).toFixed(4)} | ${(dr / spread).toFixed(4)} | ${bank} | ${speed} |\n`);
}
await fp32.release();
