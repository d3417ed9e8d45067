import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { calibrate, percentileWithMargin } from '../../src/eval/calibrate.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { bestF1Threshold, percentile } from '../../src/eval/metrics.js';
import { createBundle, loadBundle, writeBundle } from '../../src/model/bundle.js';
import { presetConfig } from '../../src/model/config.js';
import { falseAlarmThreshold } from '../../src/eval/false-alarm.js';
import { consistentPixelThreshold } from '../../src/train/calibrate.js';
import { syntheticAnalyzer, writeSyntheticDataset } from './synthetic.js';

let dir: string;
let data: string;
let bundle: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-eval-cal-'));
  data = await writeSyntheticDataset(join(dir, 'data'));
  bundle = join(dir, 'bundle');
  const config = presetConfig('lite', { inputSize: 32, levelChannels: [4, 4, 8, 8], headChannels: 4, backbone: { widthDivisor: 8 } });
  await writeBundle(bundle, await createBundle({ config }));
});
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('calibrate', () => {
  test('--rule f1 writes best-F1 image and pixel thresholds into the manifest and re-hashes it', async () => {
    const before = await loadBundle(bundle);
    const r = await calibrate({ analyzer: syntheticAnalyzer(32), bundle, data, rule: 'f1', progress: false });
    const after = await loadBundle(bundle); // hashes still check out
    expect(r.written).toBe(true);
    expect(r.manifestSha256.before).toBe(before.sha256);
    expect(r.manifestSha256.after).toBe(after.sha256);
    expect(after.sha256).not.toBe(before.sha256);
    expect(after.manifest.thresholds).toEqual(r.thresholds);
    expect(after.manifest.thresholds.source).toMatch(/^calibrate --rule f1 on .* \(4 good, 6 defective; chosen on these labels\)$/);
    expect(after.manifest.provenance.calibration).toMatchObject({ rule: 'f1', images: { good: 4, defective: 6 } });
    // the image threshold is the best-F1 threshold of the same scores (evaluate reproduces them)
    const ev = await evaluate({ analyzer: syntheticAnalyzer(32), data, out: join(dir, 'ev'), progress: false, gallery: 0 });
    const scores = JSON.parse(await readFile(join(dir, 'ev/scores.json'), 'utf8')) as Record<string, number>;
    const labels = JSON.parse(await readFile(join(dir, 'ev/labels.json'), 'utf8')) as Record<string, number>;
    const keys = Object.keys(scores);
    expect(r.thresholds.image).toBe(bestF1Threshold(keys.map((k) => scores[k]!), keys.map((k) => labels[k]!)).threshold);
    expect((ev.metrics as { bestF1: { threshold: number } }).bestF1.threshold).toBe(r.thresholds.image);
    // rates on the data it saw: consistent with the threshold
    const good = keys.filter((k) => labels[k] === 0).map((k) => scores[k]!);
    const bad = keys.filter((k) => labels[k] === 1).map((k) => scores[k]!);
    expect(r.expected.image.falseAlarmRate).toBe(good.filter((s) => s >= r.thresholds.image).length / good.length);
    expect(r.expected.image.missRate).toBe(bad.filter((s) => s < r.thresholds.image).length / bad.length);
    expect(r.expected.pixel.falseAlarmRate).toBeGreaterThanOrEqual(0);
    expect(r.expected.pixel.missRate).toBeLessThan(1);
  });

  test('--rule good-percentile: percentile of good scores plus the margin; --dry-run leaves the manifest alone', async () => {
    const before = await loadBundle(bundle);
    const r = await calibrate({ analyzer: syntheticAnalyzer(32), bundle, data, rule: 'good-percentile', target: 90, margin: 0.5, dryRun: true, progress: false });
    expect(r.written).toBe(false);
    expect((await loadBundle(bundle)).sha256).toBe(before.sha256);
    const scores = JSON.parse(await readFile(join(dir, 'ev/scores.json'), 'utf8')) as Record<string, number>;
    const good = Object.keys(scores).filter((k) => k.startsWith('good/')).map((k) => scores[k]!);
    const q = percentile(good, 90);
    expect(r.thresholds.image).toBeCloseTo(q + 0.5 * (q - percentile(good, 50)), 12);
    expect(r.thresholds.source).toMatch(/good-percentile p90 \(pixels p99\.9\) \+ 0\.5·\(p − median\) on .* test\/good \(4 images\)/);
    expect(r.expected.image.missRate).not.toBeNull(); // defects scored for the report only
  });

  test('good-percentile on train/good only', async () => {
    const r = await calibrate({ analyzer: syntheticAnalyzer(32), bundle, data, rule: 'good-percentile', split: 'train', dryRun: true, progress: false });
    expect(r.images).toEqual({ good: 2, defective: 0 });
    expect(r.expected.image.missRate).toBeNull();
    expect(r.expected.pixel.missRate).toBeNull();
  });

  test('--rule false-alarm (the default): Gumbel threshold of the good scores, its uncertainty in the manifest', async () => {
    const r = await calibrate({ analyzer: syntheticAnalyzer(32), bundle, data, rate: 0.05, progress: false });
    expect(r.rule).toBe('false-alarm');
    const scores = JSON.parse(await readFile(join(dir, 'ev/scores.json'), 'utf8')) as Record<string, number>;
    const good = Object.keys(scores).filter((k) => k.startsWith('good/')).map((k) => scores[k]!);
    expect(r.thresholds.image).toBe(falseAlarmThreshold(good, 0.05).threshold);
    expect(r.thresholds.pixel).toBeLessThanOrEqual(r.thresholds.image);
    expect(r.thresholds.operatingPoint).toMatchObject({ rule: 'false-alarm', falseAlarmRate: 0.05, method: expect.stringMatching(/^(gumbel|data-bound)$/), images: 4 });
    // 4 images allow at most one at or above a 5 % threshold (two would put the rate's exact lower bound above 5 %)
    expect(r.thresholds.operatingPoint!.exceedances).toBeLessThanOrEqual(1);
    // 4 images cannot show 5 %: said, with the fix
    expect(r.warnings.some((w) => /^4 good images cannot show a 5 % false-alarm rate .*; add good images/.test(w))).toBe(true);
    const after = await loadBundle(bundle);
    expect(after.manifest.thresholds.operatingPoint).toEqual(r.thresholds.operatingPoint);
    expect(after.manifest.provenance.calibration).toMatchObject({ rule: 'false-alarm', rate: 0.05 });
    // no path of this machine in the manifest: the dataset is named by its last two folders
    expect(JSON.stringify(after.manifest)).not.toContain(dir);
    await expect(calibrate({ analyzer: syntheticAnalyzer(), bundle, data, rate: 0.7, progress: false })).rejects.toThrow(/^--rate 0.7 is not a false-alarm rate: give a fraction in \(0, 0.5\)/);
  });

  test('thresholds never contradict: a pixel threshold above the image threshold is lowered, with a warning', async () => {
    // good-percentile on 2 train images: p99.5 of 2 scores is their max, the pixel p99.9 of their maps is higher
    const r = await calibrate({ analyzer: syntheticAnalyzer(32), bundle, data, rule: 'good-percentile', split: 'train', margin: 0, dryRun: true, progress: false });
    expect(r.thresholds.pixel).toBeLessThanOrEqual(r.thresholds.image);
    expect(r.warnings.some((w) => /rests on 2 good image\(s\).*add good images or use --rule false-alarm/.test(w))).toBe(true);
    expect(consistentPixelThreshold(2.84, 2.885)).toEqual({ pixel: 2.84, warning: expect.stringMatching(/^the pixel threshold 2\.885 was above the image threshold 2\.840 .*lowered to the image threshold$/) });
    expect(consistentPixelThreshold(2.84, 1)).toEqual({ pixel: 1 });
  });

  test('percentileWithMargin and bad options', async () => {
    expect(percentileWithMargin([1, 2, 3, 4, 5], 100, 0.1)).toBeCloseTo(5 + 0.1 * (5 - 3), 12);
    await expect(calibrate({ analyzer: syntheticAnalyzer(), bundle, data, rule: 'good-percentile', target: 150, progress: false })).rejects.toThrow(/--target 150 is not a percentile/);
    await expect(calibrate({ analyzer: syntheticAnalyzer(), bundle, data, margin: -1, progress: false })).rejects.toThrow(/--margin -1 is negative/);
    await expect(calibrate({ analyzer: syntheticAnalyzer(), bundle, data, rule: 'f1', split: 'train', progress: false })).rejects.toThrow(/--split train applies to the good-image rules .*: drop --split or use --rule false-alarm$/);
    await expect(calibrate({ analyzer: syntheticAnalyzer(), bundle: join(dir, 'nope'), data, progress: false })).rejects.toMatchObject({ code: 'E_BUNDLE' });
  });
});
