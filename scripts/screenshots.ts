// Makes the screenshots in docs/: the live station page of `mmaerec-edge demo` (docs/station-page.png, and a
// frame's detail view, docs/station-page-detail.png) and the interactive evaluation report of the demo bundle
// on procedural surfaces (docs/eval-report.png: operating point and charts; docs/eval-report-image.png: the
// per-image table with one image opened), in headless Chromium (/usr/bin/chromium via playwright-core).
// Usage: node --import tsx scripts/screenshots.ts [--out docs]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_DEMO_BUNDLE, runDemo } from '../src/demo/run-demo.js';
import { writeSurfaceDataset } from '../src/demo/write-surfaces.js';
import { openBundleAnalyzer } from '../src/eval/bundle-analyzer.js';
import { evaluate } from '../src/eval/evaluate.js';
import { launchChromium } from '../test/helpers/browser.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'docs' } } });
const out = path.resolve(values.out!);
const work = await mkdtemp(path.join(tmpdir(), 'mmaerec-screenshots-'));
const browser = await launchChromium();

async function stationPage(): Promise<void> {
  let release!: () => void;
  const serveUntil = new Promise<void>((resolve) => (release = resolve));
  let url!: string;
  const pageReady = new Promise<void>((resolve) => {
    const demo = runDemo({ out: path.join(work, 'demo'), print: () => undefined, serveUntil, onPage: (u) => ((url = u), resolve()) });
    demo.catch((err: Error) => {
      console.error(`screenshots: the demo failed: ${err.message}`);
      process.exit(1);
    });
    void serveUntil.then(() => demo);
  });
  await pageReady;
  const page = await browser.newPage({ viewport: { width: 1300, height: 1250 } });
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as unknown as { document: { getElementById(id: string): { textContent: string } | null } }).document.getElementById('frames-count')?.textContent === '8');
  await page.locator('#show-heatmap').check();
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: path.join(out, 'station-page.png') });
  await page.locator('.thumb[data-verdict=defect]').first().click();
  await page.waitForSelector('#detail[open]');
  await page.waitForLoadState('networkidle');
  await page.locator('#detail').screenshot({ path: path.join(out, 'station-page-detail.png') });
  release();
}

async function report(): Promise<void> {
  const data = path.join(work, 'surfaces');
  await writeSurfaceDataset({ out: data, width: 128, height: 128, train: 0, testGood: 16, testDefect: 4, seed: 7 });
  const analyzer = await openBundleAnalyzer(DEFAULT_DEMO_BUNDLE);
  try {
    await evaluate({ analyzer, data, out: path.join(work, 'eval'), progress: false, gallery: 2 });
  } finally {
    await analyzer.close();
  }
  const page = await browser.newPage({ viewport: { width: 1400, height: 1600 } });
  await page.goto(pathToFileURL(path.join(work, 'eval', 'report.html')).href);
  await page.locator('#images th[data-sort=score]').click();
  await page.locator('#images tbody tr.miss, #images tbody tr.detected').first().click();
  await page.locator('.images-layout').screenshot({ path: path.join(out, 'eval-report-image.png') });
  await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
  await page.screenshot({ path: path.join(out, 'eval-report.png'), fullPage: false });
}

try {
  await stationPage();
  await report();
  console.log(`wrote ${['station-page.png', 'station-page-detail.png', 'eval-report.png', 'eval-report-image.png'].map((f) => path.join(out, f)).join(', ')}`);
} finally {
  await browser.close();
  await rm(work, { recursive: true, force: true });
}
