import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedBundle } from '../../src/model/bundle.js';
import { gradientPng, tinyBundle } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

// Through main() as bin/mmaerec-edge.js calls it, from an entry file (src/cli/main.ts as the entry script
// deadlocks on its own top-level await; and `-e` with --input-type=module leaks into ONNX Runtime's eval'd worker).
let entry: string;

function cli(args: string[], onStart?: (child: ReturnType<typeof spawn>) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    onStart?.(child);
  });
}

let dir: string;
let bundle: LoadedBundle;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-cli-'));
  entry = path.join(dir, 'entry.mjs');
  await writeFile(entry, `const { main } = await import(${JSON.stringify(path.join(ROOT, 'src/cli/main.ts'))});\nprocess.exitCode = await main(process.argv.slice(2));\n`);
  bundle = await tinyBundle(path.join(dir, 'bundle'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const INSPECTION_FIELDS = ['kind', 'frameId', 'origin', 'capturedAt', 'finishedAt', 'score', 'imageThreshold', 'pixelThreshold', 'verdict', 'regions', 'latency', 'model'];

describe('mmaerec-edge run', () => {
  it('folder source + JSON-lines sink: exactly one record per image, each with every field', async () => {
    const images = path.join(dir, 'images');
    await mkdir(images);
    for (let i = 0; i < 3; i++) await writeFile(path.join(images, `img${i}.png`), await gradientPng(40 + i * 8, 40));
    await writeFile(path.join(images, 'broken.png'), 'not a png');
    const config = path.join(dir, 'line.yaml');
    await writeFile(config, [
      `model: ${bundle.dir}`,
      'source: { type: files, path: "images/*.png" }',
      'sinks: [{ type: jsonl, path: out/results.jsonl }]',
      'heatmap: { mode: all, dir: heat }',
      'metrics: { summaryIntervalS: 0 }',
    ].join('\n'));
    const { code, stderr } = await cli(['run', '--config', config]);
    expect(code, stderr).toBe(0);
    const lines = (await readFile(path.join(dir, 'out', 'results.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.frameId)).toEqual(['broken.png', 'img0.png', 'img1.png', 'img2.png']);
    expect(lines[0]).toMatchObject({ kind: 'error', code: 'E_INPUT', origin: path.join(images, 'broken.png') });
    for (const rec of lines.slice(1)) {
      expect(Object.keys(rec)).toEqual(expect.arrayContaining(INSPECTION_FIELDS));
      expect(rec.model).toEqual({ bundleName: 'tiny', bundleSha256: bundle.sha256, backend: expect.stringMatching(/^onnxruntime/), scoringEngine: expect.stringMatching(/^(native-cpu|cuda)$/) });
      expect(Object.keys(rec.latency).sort()).toEqual(['decodeMs', 'inferMs', 'preprocessMs', 'scoreMs', 'totalMs']);
      expect(rec.heatmap).toMatchObject({ format: 'png', path: path.join(dir, 'heat', rec.frameId.replace(/\.png$/, '.heatmap.png')) });
    }
    expect((await readdir(path.join(dir, 'heat'))).sort()).toEqual(['img0.heatmap.png', 'img1.heatmap.png', 'img2.heatmap.png']);
    expect(stderr).toMatch(/run finished/);
  });

  it('watch mode + SIGTERM: stops the source, finishes frames in flight, and loses no result', async () => {
    const images = path.join(dir, 'watched');
    await mkdir(images);
    await writeFile(path.join(images, 'a.png'), await gradientPng(40, 40));
    const config = path.join(dir, 'watch.json');
    const out = path.join(dir, 'watch.jsonl');
    await writeFile(config, JSON.stringify({
      model: bundle.dir, source: { type: 'files', path: 'watched/*.png', watch: true, stableMs: 50, pollMs: 25 },
      sinks: [{ type: 'jsonl', path: out }], metrics: { summaryIntervalS: 0 },
    }));
    const result = await cli(['run', '-c', config], (child) => {
      void (async () => {
        const deadline = Date.now() + 60_000;
        const count = async () => (await readFile(out, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
        while ((await count()) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        for (const n of ['b', 'c', 'd']) await writeFile(path.join(images, `${n}.png`), await gradientPng(48, 40));
        while ((await count()) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        child.kill('SIGTERM'); // frames c and d are now queued or in flight
      })();
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/shutting down/);
    const finished = result.stderr.split('\n').map((l) => { try { return JSON.parse(l); } catch { return {}; } }).find((l) => /run finished/.test(l.msg ?? ''));
    const records = (await readFile(out, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(records.length).toBe(finished.frames);
    expect(records.map((r) => r.frameId).slice(0, 2)).toEqual(['a.png', 'b.png']);
    expect(records.every((r) => r.kind === 'inspection')).toBe(true);
  });

  it('a bad config names the field and the fix; a tampered bundle refuses to start or yields E_BUNDLE records', async () => {
    const bad = path.join(dir, 'bad.yaml');
    await writeFile(bad, `model: ${bundle.dir}\nsource: { type: files, path: x, wacth: true }\nsinks: [{ type: stdout }]\n`);
    const r1 = await cli(['run', '--config', bad]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toContain(`mmaerec-edge: ${bad}: source: unknown key "wacth": remove it or correct its spelling`);
    const tampered = path.join(dir, 'tampered');
    await tinyBundle(tampered);
    const manifest = JSON.parse(await readFile(path.join(tampered, 'manifest.json'), 'utf8'));
    manifest.files['weights.safetensors'].bytes += 1;
    await writeFile(path.join(tampered, 'manifest.json'), JSON.stringify(manifest));
    const cfg = path.join(dir, 'tampered.yaml');
    await writeFile(cfg, `model: ${tampered}\nsource: { type: files, path: "images/*.png" }\nsinks: [{ type: stdout }]\npipeline: { onBundleError: exit }\n`);
    const r2 = await cli(['run', '--config', cfg]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/mmaerec-edge: .*weights.safetensors has \d+ bytes, the manifest says \d+ \(partial or tampered\): copy the bundle again/);
    // Default (onBundleError: report): the line keeps going and every frame gets an E_BUNDLE error record.
    const cfg2 = path.join(dir, 'tampered-report.yaml');
    await writeFile(cfg2, `model: ${tampered}\nsource: { type: files, path: "images/*.png" }\nsinks: [{ type: stdout }]\nmetrics: { summaryIntervalS: 0 }\n`);
    const r3 = await cli(['run', '--config', cfg2]);
    expect(r3.code).toBe(1);
    const recs = r3.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(recs.map((r) => r.frameId)).toEqual(['broken.png', 'img0.png', 'img1.png', 'img2.png']);
    for (const r of recs) expect(r).toMatchObject({ kind: 'error', code: 'E_BUNDLE', message: expect.stringMatching(/^not inspected: .*partial or tampered/) });
    expect(r3.stderr).toMatch(/frames get E_BUNDLE error records until it loads/);
  });
});

describe('mmaerec-edge inspect', () => {
  it('prints one JSON record per image and writes heatmaps', async () => {
    const a = path.join(dir, 'one.png');
    const b = path.join(dir, 'two.jpg');
    await writeFile(a, await gradientPng(64, 48));
    await writeFile(b, Buffer.from('garbage'));
    const heat = path.join(dir, 'inspect-heat');
    const r = await cli(['inspect', bundle.dir, a, b, '--json', '--heatmaps', heat]);
    expect(r.code, r.stderr).toBe(1); // one image could not be inspected
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.frameId, l.kind])).toEqual([[a, 'inspection'], [b, 'error']]);
    expect(Object.keys(lines[0])).toEqual(expect.arrayContaining(INSPECTION_FIELDS));
    expect(lines[0].heatmap.path).toBe(path.join(heat, `${a.replace(/\.png$/, '').replace(/\//g, '__')}.heatmap.png`));
    expect(await readdir(heat)).toHaveLength(1);
  });

  it('text output and exit status: 0 when all ok (threshold overridden high)', async () => {
    const a = path.join(dir, 'ok.png');
    await writeFile(a, await gradientPng(32, 32));
    const r = await cli(['inspect', bundle.dir, a, '--image-threshold', '1e9', '--sessions', '2', '--threads', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^ok +${a.replace(/[.]/g, '\\.')}  score \\d\\.\\d{3,4} \\(threshold 1\\.000e\\+9\\)  regions \\d+`));
  });

  it('a missing bundle is a one-line error with the fix', async () => {
    const r = await cli(['inspect', path.join(dir, 'missing'), 'x.png']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`mmaerec-edge: ${path.join(dir, 'missing', 'manifest.json')} is missing: pass a bundle directory made by "mmaerec-edge create" or "train"`);
  });

  it('a bad session count is a one-line error with the fix', async () => {
    const r = await cli(['inspect', bundle.dir, 'x.png', '--sessions', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('mmaerec-edge: --sessions 0 is not an integer in 1..16: give e.g. --sessions 2');
  });

  it('an empty threshold is refused, not read as 0', async () => {
    const r = await cli(['inspect', bundle.dir, 'x.png', '--image-threshold', '']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('mmaerec-edge: --image-threshold "" is not a number: give e.g. --image-threshold 0.35');
  });
});
