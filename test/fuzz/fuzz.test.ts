import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { stringify as stringifyYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMmaerecError } from '../../src/errors.js';
import { loadRunConfig } from '../../src/config/load.js';
import { loadBundle } from '../../src/model/bundle.js';
import { parseSafetensors, toFloat32 } from '../../src/model/safetensors.js';
import { decodeFrame } from '../../src/preprocess/decode.js';
import { readRgbImage } from '../../src/score/score-files.js';
import { ROOT } from '../helpers/require-tool.js';
import { Rng, mutateBytes, mutateJpeg, mutateJson, mutatePng, mutateSafetensors, mutateText } from './mutate.js';

/**
 * Issue 15 item 16: hostile inputs through the entry points a user calls — `inspect`, `info`, `run --check` and
 * `score` as child processes (memory-capped, with a timeout), and the SDK's loaders in-process. Every outcome must
 * be success or a one-line error with a code; never a stack trace, a signal, a hang or unbounded memory.
 * Seeded and bounded (≈ 1–2 min on 2 cores): FUZZ_SEED=<n> reproduces a run, FUZZ_SCALE=<x> multiplies the cases.
 * Failing inputs are kept under $TMPDIR/mmaerec-fuzz-… and named in the assertion.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const n = (count: number) => Math.max(1, Math.round(count * SCALE));
/** A child above this peak RSS is "unbounded memory" (inspection decodes to the model size; score is ≈ 80 B/px). */
const RSS_CAP = 1536 * 2 ** 20;
const CHILD_TIMEOUT_MS = 60_000;
const CASE_TIMEOUT_MS = 20_000;

type Kind = string; // 'ok', 'error:E_…', or a failure: 'stack', 'internal', 'signal:…', 'timeout', 'memory', 'multiline', 'uncoded', 'stray-output', 'no-record'
const BAD = /^(stack|internal|signal|timeout|memory|multiline|uncoded|stray-output|no-record)/;
const counts = new Map<string, Map<Kind, number>>();
const failures = new Map<string, string[]>();

function record(target: string, kind: Kind, input: string, detail = ''): void {
  const m = counts.get(target) ?? new Map<Kind, number>();
  counts.set(target, m.set(kind, (m.get(kind) ?? 0) + 1));
  if (BAD.test(kind)) {
    const f = failures.get(target) ?? [];
    failures.set(target, [...f, `${kind}: ${input}${detail ? ` -> ${detail.slice(0, 600)}` : ''}`]);
  }
}

const expectClean = (...targets: string[]) =>
  expect(targets.flatMap((t) => (failures.get(t) ?? []).map((f) => `${t}: ${f}`)), `failures (seed ${SEED})`).toEqual([]);

/** A message fit for one log line: no newline, no control character. */
const oneLine = (s: string) => !/[\u0000-\u001f\u007f]/.test(s);

let dir: string;
let caseNo = 0;
const file = (ext: string, bytes: Uint8Array | string) => {
  const p = path.join(dir, `case-${String(++caseNo).padStart(4, '0')}${ext}`);
  writeFileSync(p, bytes);
  return p;
};

const DEMO = path.join(ROOT, 'models', 'demo');
const FRAMES = path.join(ROOT, 'examples', 'frames');
let seeds: { png: Uint8Array[]; jpeg: Uint8Array[]; manifest: Record<string, unknown>; weights: Uint8Array; onnx: Uint8Array; config: Record<string, unknown> };

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mmaerec-fuzz-'));
  const png = ['good-1.png', 'crack-1.png', 'stain-1.png'].map((f) => new Uint8Array(readFileSync(path.join(FRAMES, f))));
  const jpeg = await Promise.all(png.slice(0, 2).map(async (p) => new Uint8Array(await sharp(p).jpeg({ quality: 80 }).toBuffer())));
  png.push(new Uint8Array(await sharp(png[0]!).resize(64, 48).png({ palette: true }).toBuffer()));
  const config = {
    model: DEMO,
    source: { type: 'files', path: path.join(FRAMES, '*.png') },
    sinks: [{ type: 'jsonl', path: path.join(dir, 'results.jsonl') }],
    heatmap: { mode: 'defects', dir: path.join(dir, 'heatmaps') },
    thresholds: { image: 0.5 },
    pipeline: { maxInFlight: 2 },
    metrics: { port: 0 },
    logging: { level: 'warn', file: path.join(dir, 'run.log') },
    backend: { name: 'onnxruntime', threads: 1 },
  };
  seeds = {
    png,
    jpeg,
    manifest: JSON.parse(readFileSync(path.join(DEMO, 'manifest.json'), 'utf8')),
    weights: new Uint8Array(readFileSync(path.join(DEMO, 'weights.safetensors'))),
    onnx: new Uint8Array(readFileSync(path.join(DEMO, 'model.onnx'))),
    config,
  };
  // The seeds themselves are valid: mutations start from a config and a bundle that work.
  writeFileSync(path.join(dir, 'seed.yaml'), stringifyYaml(config));
  await loadRunConfig(path.join(dir, 'seed.yaml'));
  await loadBundle(DEMO);
});

afterAll(() => {
  const kinds = [...new Set([...counts.values()].flatMap((m) => [...m.keys()]))].sort();
  const lines = [`fuzz (seed ${SEED}, scale ${SCALE}): outcomes per target`];
  for (const [target, m] of counts) lines.push(`  ${target.padEnd(22)} ${kinds.filter((k) => m.has(k)).map((k) => `${k} ${m.get(k)}`).join(', ')}`);
  const total = new Map<Kind, number>();
  for (const m of counts.values()) for (const [k, v] of m) total.set(k, (total.get(k) ?? 0) + v);
  lines.push(`  ${'total'.padEnd(22)} ${[...total].sort().map(([k, v]) => `${k} ${v}`).join(', ')}`);
  process.stdout.write(lines.join('\n') + '\n');
  if (![...failures.values()].some((f) => f.length)) rmSync(dir, { recursive: true, force: true });
  else process.stdout.write(`fuzz: failing inputs kept in ${dir}\n`);
});

/** One frame: a mutated PNG or JPEG (or, rarely, a seed unchanged, so that success paths are exercised too). */
function frame(rng: Rng): { bytes: Uint8Array; ext: string } {
  if (rng.chance(0.5)) {
    const src = rng.pick(seeds.jpeg);
    return { bytes: rng.chance(0.05) ? src : mutateJpeg(rng, src), ext: '.jpg' };
  }
  const src = rng.pick(seeds.png);
  return { bytes: rng.chance(0.05) ? src : mutatePng(rng, src), ext: '.png' };
}

/** In-process: success or a MmaerecError with a one-line message, within CASE_TIMEOUT_MS. */
async function sdkCase(target: string, input: string, run: () => Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([run(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('__timeout__')), CASE_TIMEOUT_MS)))]);
    record(target, 'ok', input);
  } catch (err) {
    if (err instanceof Error && err.message === '__timeout__') record(target, 'timeout', input);
    else if (!isMmaerecError(err)) record(target, 'uncoded', input, `${(err as Error)?.name}: ${(err as Error)?.message}`);
    else if (!oneLine(err.message)) record(target, 'multiline', input, JSON.stringify(err.message));
    else record(target, `error:${err.code}`, input);
  } finally {
    clearTimeout(timer);
  }
}

interface ChildResult {
  status: number | null;
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  code?: string;
  maxRSS?: number;
}

/** The CLI as bin/mmaerec-edge.js runs it, heap-capped; reports the code of the error main printed and the peak RSS. */
function cli(args: string[]): Promise<ChildResult> {
  const result = path.join(dir, `result-${++caseNo}.json`);
  // A script file, not -e: after -e, node takes a first argument `inspect` for its debugger.
  const entry = path.join(dir, 'entry.mjs');
  writeFileSync(entry, `const { main } = await import(${JSON.stringify(path.join(ROOT, 'src/cli/main.ts'))});
    const { writeFileSync } = await import('node:fs');
    let code;
    process.on('exit', () => writeFileSync(process.env.FUZZ_RESULT, JSON.stringify({ code, maxRSS: process.resourceUsage().maxRSS * 1024 })));
    process.exitCode = await main(process.argv.slice(2), { reported: (e) => { code = e.code; }, internal: () => { code = 'internal'; } });\n`);
  return new Promise((resolve) => {
    // The heap cap through NODE_OPTIONS: as an exec argument it reaches the ONNX Runtime worker's execArgv,
    // which Node refuses (ERR_WORKER_INVALID_EXEC_ARGV; reported apart, not what this suite measures).
    const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
      cwd: ROOT,
      env: { ...process.env, FUZZ_RESULT: result, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=768`.trim() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, CHILD_TIMEOUT_MS);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      let extra: { code?: string; maxRSS?: number } = {};
      try {
        extra = JSON.parse(readFileSync(result, 'utf8'));
      } catch {
        // no result file: the process died before exit handlers ran (a signal, a timeout)
      }
      resolve({ status, signal, timedOut, stdout, stderr, ...extra });
    });
  });
}

/** Lines a CLI may print to stderr besides one `mmaerec-edge: …` error line. */
const ALLOWED_STDERR = [/^scoring engine: /, /^mmaerec-edge: cannot read .* check the path$/];

/** Classifies a CLI run: its process-level outcome ('ok' or 'error:E_…' or a failure kind). */
function classify(r: ChildResult, opts: { problemList?: boolean } = {}): { kind: Kind; detail: string } {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  const tail = lines.slice(-6).join(' | ');
  if (r.timedOut) return { kind: 'timeout', detail: tail };
  if (r.signal) return { kind: `signal:${r.signal}`, detail: tail };
  if (r.maxRSS !== undefined && r.maxRSS > RSS_CAP) return { kind: 'memory', detail: `peak RSS ${(r.maxRSS / 2 ** 20).toFixed(0)} MiB` };
  if (lines.some((l) => /^\s+at\s|node:internal|^\w*Error\b|triggerUncaughtException/.test(l))) return { kind: 'stack', detail: tail };
  // main's one line for a bug (status 70): no stack, but still a failure of the code under test
  if (r.code === 'internal' || r.status === 70) return { kind: 'internal', detail: tail };
  const errors = lines.filter((l) => l.startsWith('mmaerec-edge: ') && !ALLOWED_STDERR.some((a) => a.test(l)));
  const stray = lines.filter((l) => !l.startsWith('mmaerec-edge: ') && !ALLOWED_STDERR.some((a) => a.test(l)));
  // lines after an error line are that error's continuation; before any, output that should not be there
  if (stray.length && errors.length) return { kind: 'multiline', detail: tail };
  if (stray.length) return { kind: 'stray-output', detail: tail };
  // `run --check` lists every problem it found, each as its own `mmaerec-edge: …` line, then a summary line
  if (errors.length > 1 && !opts.problemList) return { kind: 'multiline', detail: tail };
  if (errors.some((l) => !oneLine(l))) return { kind: 'multiline', detail: JSON.stringify(errors) };
  if (errors.length === 1 && !oneLine(errors[0]!)) return { kind: 'multiline', detail: JSON.stringify(errors[0]) };
  if (r.status === 0) return { kind: 'ok', detail: '' };
  if (errors.length >= 1 && r.code) return { kind: `error:${r.code}`, detail: '' };
  // run --check's own report (problems found, exit 1): each a one-line `mmaerec-edge:` error
  if (opts.problemList && errors.length >= 1 && r.status === 1) return { kind: 'error:check', detail: '' };
  // inspect: exit 1 or 2 with its per-frame records on stdout and no top-level error
  if (errors.length === 0 && (r.status === 1 || r.status === 2) && r.stdout.trim()) return { kind: 'ok', detail: '' };
  return { kind: 'uncoded', detail: `exit ${r.status}: ${tail}` };
}

/** Runs child cases two at a time (the two cores). */
async function pool<T>(items: T[], run: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all([0, 1].map(async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await run(item);
  }));
}

/** A manifest mutation: anywhere, or (more often) in the parts the loader and the scorer act on. */
function mutateManifest(rng: Rng): Record<string, unknown> {
  if (rng.chance(0.3)) return mutateJson(rng, seeds.manifest);
  const m = structuredClone(seeds.manifest);
  const key = rng.pick(['scoring', 'scoring', 'thresholds', 'input', 'config', 'files', 'format']);
  m[key] = mutateJson(rng, { v: m[key] }).v;
  return m;
}

/** A copy of the demo bundle with one file replaced; `resign` rewrites its hash and size in the manifest. */
function bundleWith(replace: { manifest?: unknown; weights?: Uint8Array; onnx?: Uint8Array }, resign = true): string {
  const b = path.join(dir, `bundle-${++caseNo}`);
  mkdirSync(b);
  const manifest = structuredClone((replace.manifest ?? seeds.manifest) as { files?: Record<string, { sha256: string; bytes: number }> });
  for (const [name, bytes] of [['weights.safetensors', replace.weights], ['model.onnx', replace.onnx]] as const) {
    if (!bytes) {
      copyFileSync(path.join(DEMO, name), path.join(b, name));
      continue;
    }
    writeFileSync(path.join(b, name), bytes);
    if (resign && manifest?.files && typeof manifest.files === 'object' && manifest.files[name]) {
      manifest.files[name] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
    }
  }
  writeFileSync(path.join(b, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return b;
}

describe(`fuzz (seed ${SEED})`, () => {
  it('SDK: readRgbImage (the score loader) and decodeFrame (inspection) on mutated PNG/JPEG', async () => {
    const rng = new Rng(SEED);
    for (let i = 0; i < n(120); i++) {
      const f = frame(rng);
      const p = file(f.ext, f.bytes);
      await sdkCase('sdk:readRgbImage', p, () => readRgbImage(p));
      await sdkCase('sdk:decodeFrame', p, () => decodeFrame({ id: p, capturedAt: 0, image: f.bytes }, 96, 96));
    }
    expectClean('sdk:readRgbImage', 'sdk:decodeFrame');
  });

  it('SDK: parseSafetensors + toFloat32 on mutated headers, offsets and bytes', async () => {
    const rng = new Rng(SEED + 1);
    for (let i = 0; i < n(300); i++) {
      const bytes = mutateSafetensors(rng, seeds.weights);
      await sdkCase('sdk:safetensors', `${file('.safetensors', bytes)}`, async () => {
        const st = parseSafetensors(bytes, 'fuzz.safetensors');
        for (const [name, t] of st.tensors) toFloat32(t, name);
      });
    }
    expectClean('sdk:safetensors');
  });

  it('SDK: loadBundle on mutated manifests and re-signed mutated weights', async () => {
    const rng = new Rng(SEED + 2);
    for (let i = 0; i < n(60); i++) {
      const b = i % 3 === 2 ? bundleWith({ weights: mutateSafetensors(rng, seeds.weights) }) : bundleWith({ manifest: mutateManifest(rng) });
      await sdkCase('sdk:loadBundle', b, () => loadBundle(b));
    }
    expectClean('sdk:loadBundle');
  });

  it('SDK: loadRunConfig on mutated YAML (structure and text)', async () => {
    const rng = new Rng(SEED + 3);
    for (let i = 0; i < n(200); i++) {
      const text = rng.chance(0.7) ? stringifyYaml(mutateJson(rng, seeds.config)) : mutateText(rng, stringifyYaml(seeds.config));
      const p = file('.yaml', text);
      await sdkCase('sdk:loadRunConfig', p, () => loadRunConfig(p));
    }
    expectClean('sdk:loadRunConfig');
  });

  it('CLI: inspect on mutated frames (one process, one record per frame; again with --heatmaps)', async () => {
    const rng = new Rng(SEED + 4);
    for (const heatmaps of [false, true]) {
      const target = heatmaps ? 'cli:inspect --heatmaps' : 'cli:inspect';
      const frames = Array.from({ length: n(60) }, () => {
        const f = frame(rng);
        return file(f.ext, f.bytes);
      });
      const r = await cli(['inspect', DEMO, ...frames, '--json', ...(heatmaps ? ['--heatmaps', path.join(dir, `heatmaps-${caseNo}`)] : [])]);
      const { kind, detail } = classify(r);
      record(`${target} (process)`, kind, frames.join(' '), detail);
      type Rec = { kind: string; frameId: string; code?: string; message?: string };
      const records = r.stdout.split('\n').filter(Boolean).flatMap((l): Rec[] => {
        try {
          return [JSON.parse(l) as Rec];
        } catch {
          record(`${target} (process)`, 'stray-output', l.slice(0, 200));
          return [];
        }
      });
      for (const f of frames) {
        const rec = records.find((x) => x.frameId === f);
        if (!rec) record(target, 'no-record', f, detail);
        else if (rec.kind === 'error') record(target, oneLine(rec.message ?? '') ? `error:${rec.code}` : 'multiline', f, rec.message);
        else record(target, 'ok', f);
      }
    }
    expectClean('cli:inspect (process)', 'cli:inspect', 'cli:inspect --heatmaps (process)', 'cli:inspect --heatmaps');
  }, 150_000);

  it('CLI: score, info, run --check and inspect on re-signed mutated ONNX files (child processes)', async () => {
    const rng = new Rng(SEED + 5);
    const cases: Array<{ target: string; input: string; args: string[] }> = [];
    for (let i = 0; i < n(10); i++) {
      const a = frame(rng);
      const good = path.join(FRAMES, 'good-1.png');
      const p = file(a.ext, a.bytes);
      cases.push({ target: 'cli:score', input: p, args: i % 2 ? ['score', good, p, '--json'] : ['score', p, good, '--out', path.join(dir, `map-${i}.npy`)] });
    }
    for (let i = 0; i < n(12); i++) {
      const b = i % 2 ? bundleWith({ weights: mutateSafetensors(rng, seeds.weights) }) : bundleWith({ manifest: mutateManifest(rng) });
      cases.push({ target: 'cli:info', input: b, args: ['info', b] });
    }
    for (let i = 0; i < n(6); i++) {
      // a bundle `info` may accept must not then break inspection (issue 15 item 3), nor pass run --check when run refuses it
      const b = bundleWith({ manifest: mutateManifest(rng) });
      cases.push({ target: 'cli:inspect manifest', input: b, args: ['inspect', b, path.join(FRAMES, 'crack-1.png'), '--json'] });
      const p = file('.yaml', stringifyYaml({ ...seeds.config, model: b }));
      cases.push({ target: 'cli:run --check manifest', input: p, args: ['run', '--check', '--config', p] });
    }
    for (let i = 0; i < n(12); i++) {
      const text = rng.chance(0.7) ? stringifyYaml(mutateJson(rng, seeds.config)) : mutateText(rng, stringifyYaml(seeds.config));
      const p = file('.yaml', text);
      cases.push({ target: 'cli:run --check', input: p, args: ['run', '--check', '--config', p] });
    }
    for (let i = 0; i < n(8); i++) {
      const b = bundleWith({ onnx: mutateBytes(rng, seeds.onnx) });
      cases.push({ target: 'cli:inspect onnx', input: b, args: ['inspect', b, path.join(FRAMES, 'good-1.png'), '--backend', 'onnxruntime'] });
    }
    await pool(cases, async (c) => {
      const { kind, detail } = classify(await cli(c.args), { problemList: c.args.includes('--check') });
      record(c.target, kind, `mmaerec-edge ${c.args.join(' ')}`, detail);
    });
    expectClean('cli:score', 'cli:info', 'cli:run --check', 'cli:inspect onnx', 'cli:inspect manifest', 'cli:run --check manifest');
  }, 170_000);

  it('the test process itself stayed bounded', () => {
    const rss = process.resourceUsage().maxRSS * 1024;
    expect(rss, `peak RSS ${(rss / 2 ** 20).toFixed(0)} MiB`).toBeLessThan(2 * RSS_CAP);
  });
});
