import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundleAnalyzer } from '../../src/eval/bundle-analyzer.js';
import { calibrate, type CalibrationRule } from '../../src/eval/calibrate.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { formatCalibration, formatMetrics } from '../../src/eval/format.js';
import { ratesAt } from '../../src/eval/metrics.js';
import type { EvalAnalyzer } from '../../src/eval/analyzer.js';
import { launchChromium } from '../helpers/browser.js';
import { ROOT, needs, tools } from '../helpers/require-tool.js';
import { tinyBundle } from '../pipeline/helpers.js';
import { syntheticAnalyzer, writeSyntheticDataset } from './synthetic.js';

/**
 * Issue 18, done-when: report.html opened from disk in headless Chromium (network cut off). Moving the threshold
 * to a value yields the rates `eval` and `calibrate` print for it; the table sorts; a row opens that image's
 * input, reconstruction and heatmap with its region boxes and ground-truth contour.
 */
let dir: string;
let browser: Browser;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'mmaerec-eval-browser-')); });
afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

async function open(report: string): Promise<{ page: Page; external: string[] }> {
  browser ??= await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const external: string[] = [];
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    external.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(report).href, { waitUntil: 'load' });
  expect(errors).toEqual([]);
  return { page, external };
}

/** The page's numbers: counts and the rates as fractions (the page shows percent with 2 decimals). */
async function pageRates(page: Page) {
  const t = async (id: string) => (await page.locator(`#${id}`).innerText()).trim();
  const rate = async (id: string) => Number((await t(id)).replace(' %', '')) / 100;
  return {
    tp: Number(await t('tp')), fn: Number(await t('fn')), fp: Number(await t('fp')), tn: Number(await t('tn')),
    falseAlarmRate: await rate('false-alarm-rate'), missRate: await rate('miss-rate'), f1: Number(await t('f1')),
  };
}

async function setThreshold(page: Page, value: number): Promise<void> {
  await page.locator('#threshold-value').fill(String(value));
}

needs(tools.chromium(), tools.native()).describe('report.html in headless Chromium', () => {
  let out: string;
  let data: string;
  let bundleDir: string;
  let analyzer: EvalAnalyzer;
  let metrics: Record<string, unknown>;
  let scores: Record<string, number>;
  let labels: Record<string, 0 | 1>;
  let page: Page;

  beforeAll(async () => {
    data = await writeSyntheticDataset(join(dir, 'data'), { good: 6, perDefect: 4, unmasked: 1 });
    bundleDir = (await tinyBundle(join(dir, 'bundle'))).dir;
    analyzer = await openBundleAnalyzer(bundleDir);
    out = join(dir, 'out');
    ({ metrics } = await evaluate({ analyzer, data, out, progress: false, gallery: 3 }));
    const { readFile } = await import('node:fs/promises');
    scores = JSON.parse(await readFile(join(out, 'scores.json'), 'utf8'));
    labels = JSON.parse(await readFile(join(out, 'labels.json'), 'utf8'));
    const opened = await open(join(out, 'report.html'));
    expect(opened.external).toEqual([]);
    page = opened.page;
  }, 120_000);
  afterAll(async () => { await analyzer?.close(); });

  it('starts at the bundle threshold with the rates eval prints', async () => {
    const t = metrics.threshold as { image: number; falsePositiveRate: number; missRate: number };
    expect(Number(await page.locator('#threshold-value').inputValue())).toBe(t.image);
    const r = await pageRates(page);
    const printed = formatMetrics(metrics).split('\n').find((l) => l.startsWith('threshold '))!;
    expect(printed).toContain(`false alarms ${(r.falseAlarmRate * 100).toFixed(1)}%, misses ${(r.missRate * 100).toFixed(1)}%`);
    expect(r.falseAlarmRate).toBeCloseTo(t.falsePositiveRate, 4);
    expect(r.missRate).toBeCloseTo(t.missRate, 4);
  });

  for (const rule of ['false-alarm', 'f1', 'good-percentile'] as CalibrationRule[]) {
    it(`the "calibrate --rule ${rule}" mark yields the rates calibrate prints`, async () => {
      const result = await calibrate({ analyzer, bundle: bundleDir, data, rule, dryRun: true, progress: false });
      const mark = page.locator(`#marks button.rule`, { hasText: `calibrate --rule ${rule}` });
      expect(Number(await mark.getAttribute('data-value'))).toBe(result.thresholds.image);
      await mark.click();
      expect(Number(await page.locator('#threshold-value').inputValue())).toBe(result.thresholds.image);
      const r = await pageRates(page);
      const printed = formatCalibration(result).split('\n').find((l) => l.startsWith('  images:'))!;
      expect(printed).toBe(`  images: false alarms ${(r.falseAlarmRate * 100).toFixed(2)}%, misses ${(r.missRate * 100).toFixed(2)}%`);
    });
  }

  it('a threshold typed in recomputes the counts, rates and F1 as eval counts them', async () => {
    const keys = Object.keys(scores);
    const sorted = keys.map((k) => scores[k]!).sort((a, b) => a - b);
    for (const value of [sorted[2]!, (sorted[4]! + sorted[5]!) / 2, sorted[sorted.length - 1]! + 1]) {
      await setThreshold(page, value);
      const expected = ratesAt(keys.map((k) => scores[k]!), keys.map((k) => labels[k]!), value);
      const r = await pageRates(page);
      expect(r.fp).toBe(expected.falsePositives);
      expect(r.fn).toBe(expected.misses);
      expect(r.tp).toBe(expected.positives - expected.misses);
      expect(r.tn).toBe(expected.negatives - expected.falsePositives);
      expect(r.falseAlarmRate).toBeCloseTo(expected.falsePositiveRate!, 4);
      expect(r.missRate).toBeCloseTo(expected.missRate!, 4);
      const tp = expected.positives - expected.misses;
      expect(r.f1).toBeCloseTo((2 * tp) / (2 * tp + expected.falsePositives + expected.misses), 4);
      // the table's verdicts follow the threshold
      const verdicts = await page.$$eval('#images tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-key'), tr.querySelector('td.verdict')!.textContent]));
      for (const [key, verdict] of verdicts) {
        const flagged = scores[key!]! >= value;
        expect(verdict).toBe(labels[key!] === 1 ? (flagged ? 'detected' : 'miss') : flagged ? 'false alarm' : 'passed');
      }
    }
  });

  it('draws the histogram and ROC, precision–recall, pixel ROC and PRO per defect type', async () => {
    expect(await page.locator('#chart-histogram canvas').count()).toBe(1);
    const charts = await page.$$eval('#curve-charts .chart', (els) => els.map((e) => [e.id, e.getAttribute('data-series')]));
    expect(charts).toEqual([['chart-roc', '3'], ['chart-pr', '3'], ['chart-pixel-roc', '3'], ['chart-pro', '3']]);
    // legends name every subset, not drawn over the plot
    expect(await page.locator('#chart-roc .u-legend .u-label').allInnerTexts()).toEqual(['all', 'scratch', 'spot']);
    expect(await page.locator('#chart-histogram .u-legend .u-label').allInnerTexts()).toEqual(['good (6)', 'defective (8)']);
  });

  it('sorts the table by score and opens a row: input, reconstruction, heatmap with regions and ground-truth contour', async () => {
    expect(await page.locator('#images tbody tr').count()).toBe(14);
    await page.locator('#images th[data-sort=score]').click();
    const ascending = (await page.locator('#images tbody td.score').allInnerTexts()).map(Number);
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
    await page.locator('#images th[data-sort=score]').click();
    const descending = (await page.locator('#images tbody td.score').allInnerTexts()).map(Number);
    expect(descending).toEqual([...ascending].reverse());

    const row = page.locator('#images tbody tr[data-key="spot/spot2"]');
    await row.click();
    expect(await page.locator('#image-detail').getAttribute('data-key')).toBe('spot/spot2');
    expect(await page.locator('#detail-title').innerText()).toContain(`spot/spot2 (spot): score ${scores['spot/spot2']!.toPrecision(5)}`);
    const imgs = await page.$$eval('#image-detail img', (els) => els.map((e) => {
      const i = e as unknown as { className: string; naturalWidth: number; complete: boolean };
      return [i.className, i.complete, i.naturalWidth];
    }));
    expect(imgs).toEqual([['input', true, 32], ['recon', true, 32], ['input', true, 32], ['heatmap', true, 32]]);
    const contour = await page.locator('#panel-heatmap path.truth-contour').getAttribute('d');
    expect(contour).toMatch(/^M\d+ \d+h\d+/);
    const regions = await row.locator('td.regions').innerText();
    expect(await page.locator('#panel-heatmap rect.region').count()).toBe(Number(regions));
    // a defective image without a mask says so and draws no contour
    await page.locator('#images tbody tr[data-key="spot/spot3"]').click();
    expect(await page.locator('#detail-title').innerText()).toContain('(spot, no mask)');
    expect(await page.locator('#panel-heatmap path.truth-contour').count()).toBe(0);
    expect(await page.locator('.colour-bar .gradient').count()).toBe(1);
    expect(await page.locator('.colour-bar .mark').innerText()).toContain('pixel threshold');
  });

  it('lists under "Misses" only images missed at the threshold, and under "False alarms" only false alarms', async () => {
    const t = (metrics.threshold as { image: number }).image;
    const captions = await page.$$eval('.gallery .caption', (els) => els.map((e) => e.textContent ?? ''));
    for (const c of captions) {
      const key = c.split(' score ')[0]!;
      expect(c).toMatch(labels[key] === 1 ? /— miss/ : /— false alarm/);
      expect(labels[key] === 1 ? scores[key]! < t : scores[key]! >= t).toBe(true);
    }
    await mkdir(resolve(ROOT, 'test-output'), { recursive: true });
    await page.screenshot({ path: resolve(ROOT, 'test-output/eval-report.png'), fullPage: true });
  });
});

needs(tools.chromium()).it('a report without thresholds (the synthetic analyzer) starts at best F1 and marks the rules', async () => {
  const data = await writeSyntheticDataset(join(dir, 'data-plain'), { unmasked: 1 });
  const out = join(dir, 'out-plain');
  const { metrics } = await evaluate({ analyzer: syntheticAnalyzer(32), data, out, progress: false, gallery: 3 });
  const { page, external } = await open(join(out, 'report.html'));
  expect(external).toEqual([]);
  expect(Number(await page.locator('#threshold-value').inputValue())).toBe((metrics.threshold as { image: number }).image);
  expect(await page.locator('#marks button.bundle').count()).toBe(0);
  expect(await page.locator('#marks button.rule').count()).toBe(3);
  expect(await page.locator('#images tbody td.regions').first().innerText()).toBe('—');
}, 60_000);
