import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { evaluate } from '../../src/eval/evaluate.js';
import { syntheticAnalyzer, writeSyntheticDataset } from './synthetic.js';
import { CHROMIUM, ROOT, needs, tools } from '../helpers/require-tool.js';

/**
 * Opens a report made from synthetic data in headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core) with the network cut off, and checks that the charts and the gallery really rendered.
 * Saves a screenshot to test-output/eval-report.png.
 */

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'mmaerec-eval-browser-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

needs(tools.chromium()).test(`report.html renders charts and gallery in headless Chromium (${CHROMIUM})`, async () => {
  const data = await writeSyntheticDataset(join(dir, 'data'), { unmasked: 1 });
  const out = join(dir, 'out');
  await evaluate({ analyzer: syntheticAnalyzer(32), data, out, progress: false, gallery: 3 });
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const external: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
      external.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(join(out, 'report.html')).href, { waitUntil: 'load' });
    expect(external).toEqual([]);
    // charts: ROC (image + pixel), PRO, histogram; each curve a path with many points, and a rendered box
    const curves = await page.$$eval('svg.chart path.curve', (els) => els.map((e) => ({
      points: (e.getAttribute('d') ?? '').split(/[ML]/).filter(Boolean).length,
      width: (e as unknown as { getBBox(): { width: number } }).getBBox().width,
    })));
    expect(curves).toHaveLength(3);
    for (const c of curves) { expect(c.points).toBeGreaterThan(3); expect(c.width).toBeGreaterThan(50); }
    expect(await page.locator('svg.chart').count()).toBe(3);
    expect(await page.locator('svg.chart rect.bar-good').count()).toBeGreaterThan(0);
    expect(await page.locator('svg.chart rect.bar-defective').count()).toBeGreaterThan(0);
    expect(await page.locator('svg.chart line.threshold').count()).toBe(1);
    // gallery: 3 misses + 3 false alarms × 4 images, all decoded
    const images = await page.$$eval('.gallery img', (els) => els.map((e) => e as unknown as { naturalWidth: number; complete: boolean }).map((e) => ({ w: e.naturalWidth, done: e.complete })));
    expect(images).toHaveLength(24);
    for (const im of images) { expect(im.done).toBe(true); expect(im.w).toBe(32); }
    expect(await page.locator('table.metrics tr').count()).toBe(4); // header + all + 2 defect types
    await mkdir(resolve(ROOT, 'test-output'), { recursive: true });
    await page.screenshot({ path: resolve(ROOT, 'test-output/eval-report.png'), fullPage: true });
    expect(existsSync(resolve(ROOT, 'test-output/eval-report.png'))).toBe(true);
  } finally {
    await browser.close();
  }
});
