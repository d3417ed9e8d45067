import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedBundle } from '../../src/model/bundle.js';
import { Inspector } from '../../src/pipeline/inspector.js';
import { FRAMES, FRAME_NAMES, ROOT, runNode, tinyBundle, type Ran } from './helpers.js';

const SCRIPT = 'examples/line-controller.ts';

interface Verdict {
  frameId: string;
  file: string;
  verdict: string;
  score: number;
  rejected: boolean;
}

/** Splits the example's output into its verdict lines and its final JSON summary. */
function parseOutput(ran: Ran): { verdicts: Verdict[]; summary: Record<string, any> } {
  const lines = ran.stdout.trimEnd().split('\n');
  const summary = JSON.parse(lines.at(-1)!).summary;
  const verdicts = lines.slice(0, -1).map((line) => {
    const m = /^(cam1-\d{6}) (\S+) (ok|defect) score=(-?[\d.]+) threshold=\S+ regions=\d+ [\d.]+ms( -> reject)?$/.exec(line);
    if (!m) throw new Error(`unexpected verdict line: ${line}`);
    return { frameId: m[1]!, file: m[2]!, verdict: m[3]!, score: Number(m[4]), rejected: m[5] !== undefined };
  });
  return { verdicts, summary };
}

let dir: string;
let bundle: LoadedBundle;
/** Scores of the sample frames inspected in this process from their encoded files, by file name. */
const expected = new Map<string, number>();
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-example-controller-'));
  bundle = await tinyBundle(path.join(dir, 'bundle'));
  const inspector = await Inspector.create(bundle);
  for (const name of FRAME_NAMES) {
    const result = await inspector.inspect({ id: name, capturedAt: 0, image: new Uint8Array(await readFile(path.join(FRAMES, name))) });
    expected.set(name, result.score);
  }
  await inspector.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('examples/line-controller.ts', () => {
  it('one verdict line per frame, in order, with the scores of the encoded files; defects fire the reject gate', async () => {
    // A threshold between the 4th and 5th score splits the 8 frames into 4 ok and 4 defects.
    const sorted = [...expected.values()].sort((a, b) => a - b);
    const threshold = (sorted[3]! + sorted[4]!) / 2;
    const ran = await runNode([SCRIPT, '--model', bundle.dir, '--image-threshold', String(threshold)]);
    expect(ran.code, ran.stderr).toBe(0);
    const { verdicts, summary } = parseOutput(ran);
    expect(verdicts.map((v) => v.file)).toEqual(FRAME_NAMES);
    expect(verdicts.map((v) => v.frameId)).toEqual(FRAME_NAMES.map((_, i) => `cam1-00000${i + 1}`));
    for (const v of verdicts) {
      // Raw RGB pushed by the host and the PNG decoded by the inspector are the same pixels: the same score.
      expect(v.score).toBeCloseTo(expected.get(v.file)!, 5);
      expect(v.verdict).toBe(expected.get(v.file)! >= threshold ? 'defect' : 'ok');
      expect(v.rejected).toBe(v.verdict === 'defect');
    }
    expect(summary).toMatchObject({ frames: 8, ok: 4, defects: 4, errors: 0, rejected: 4, dropped: 0, stopped: false });
    expect(summary.thresholds).toEqual({ image: threshold, pixel: 0.5, source: 'override (bundle: test)' });
    expect(summary.model).toEqual({ bundleName: 'tiny-example', bundleSha256: bundle.sha256, backend: expect.stringMatching(/^onnxruntime/), scoringEngine: expect.stringMatching(/^(native-cpu|cuda)$/) });
    expect(summary.latencyMs.p50).toBeGreaterThan(0);
    expect(summary.latencyMs.p99).toBeGreaterThanOrEqual(summary.latencyMs.p50);
  });

  it("without overrides it uses the bundle's thresholds", async () => {
    const ran = await runNode([SCRIPT, '--model', bundle.dir, '--frames', FRAMES]);
    expect(ran.code, ran.stderr).toBe(0);
    const { verdicts, summary } = parseOutput(ran);
    const defects = FRAME_NAMES.filter((n) => expected.get(n)! >= 0.5).length;
    expect(verdicts).toHaveLength(8);
    expect(summary).toMatchObject({ frames: 8, defects, ok: 8 - defects, rejected: defects, thresholds: { image: 0.5, pixel: 0.5, source: 'test' } });
  });

  it('SIGTERM stops gracefully: every frame taken gets its verdict, then the summary, exit 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, '--model', bundle.dir, '--interval', '400'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (/^cam1-000002 /m.test(stdout) && child.signalCode === null && !child.killed) child.kill('SIGTERM');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/^line-controller: stopping: finishing the frames in flight/m);
    const { verdicts, summary } = parseOutput({ code, stdout, stderr });
    expect(summary.stopped).toBe(true);
    expect(summary.frames).toBeLessThan(8);
    expect(verdicts).toHaveLength(summary.frames);
    expect(verdicts.map((v) => v.file)).toEqual(FRAME_NAMES.slice(0, summary.frames));
  });

  it('setup problems are one-line errors with exit status 1', async () => {
    const empty = path.join(dir, 'empty');
    await mkdir(empty, { recursive: true });
    await writeFile(path.join(empty, 'notes.txt'), 'no images here');
    const broken = path.join(dir, 'broken');
    await mkdir(broken, { recursive: true });
    await writeFile(path.join(broken, 'a.png'), 'not a png');
    const cases: Array<[string[], RegExp]> = [
      [['--model', path.join(dir, 'nope')], /^line-controller: .*nope.*: .+\n$/],
      [['--model', bundle.dir, '--frames', path.join(dir, 'missing')], /^line-controller: --frames .*missing cannot be read \(ENOENT\): give a folder of PNG\/JPEG images\n$/],
      [['--model', bundle.dir, '--frames', empty], /^line-controller: --frames .*empty holds no \.png\/\.jpg\/\.jpeg images: give a folder of sample frames\n$/],
      [['--model', bundle.dir, '--frames', broken], /^line-controller: cannot decode .*a\.png \(.+\): give --frames a folder of PNG\/JPEG images\n$/],
      [['--model', bundle.dir, '--interval=-5'], /^line-controller: --interval -5 is invalid: give a number of milliseconds ≥ 0\n$/],
      [['--model', bundle.dir, '--treshold', '1'], /^line-controller: Unknown option '--treshold'.* \(flags: --model, --frames, /],
    ];
    const results = await Promise.all(cases.map(([args]) => runNode([SCRIPT, ...args])));
    results.forEach((ran, i) => {
      expect(ran.code, ran.stderr).toBe(1);
      expect(ran.stderr).toMatch(cases[i]![1]);
      expect(ran.stderr.trimEnd().split('\n')).toHaveLength(1);
    });
  });
});
