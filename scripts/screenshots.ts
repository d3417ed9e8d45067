// Makes the screenshots in docs/: the live station page of `mmaerec-edge demo` (docs/station-page.png, and a
// frame's detail view, docs/station-page-detail.png), the page of a two-camera `run` after a model swap
// (docs/station-page-cell.png: the demo bundle, then the same weights recalibrated as "demo-v2"), and the interactive evaluation report of the demo bundle
// on procedural surfaces (docs/eval-report.png: operating point and charts; docs/eval-report-image.png: the
// per-image table with one image opened), in headless Chromium (/usr/bin/chromium via playwright-core).
// Usage: node --import tsx scripts/screenshots.ts [--out docs]
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { parseRunConfig } from '../src/config/load.js';
import { DEFAULT_DEMO_BUNDLE, DEFAULT_DEMO_FRAMES, runDemo } from '../src/demo/run-demo.js';
import { startRun } from '../src/pipeline/from-config.js';
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

const textIs = (page: Page, id: string, value: string) =>
  page.waitForFunction(([i, v]) => (globalThis as unknown as { document: { getElementById(id: string): { textContent: string } | null } }).document.getElementById(i!)?.textContent?.includes(v!) ?? false, [id, value]);

/** A two-camera run (top with a stricter threshold of its own) whose bundle is swapped for a recalibrated copy. */
async function cellPage(): Promise<void> {
  const root = path.join(work, 'cell');
  for (const d of ['top', 'side', 'watch', 'staging']) await mkdir(path.join(root, d), { recursive: true });
  // demo-v2: the demo's weights with a lower image threshold (its manifest, so its sha256, changes; the files' do not)
  const v2 = path.join(root, 'staging', 'demo-v2');
  await cp(DEFAULT_DEMO_BUNDLE, v2, { recursive: true });
  const manifest = JSON.parse(await readFile(path.join(v2, 'manifest.json'), 'utf8'));
  manifest.name = 'demo-v2';
  manifest.thresholds = { ...manifest.thresholds, image: 0.4, source: 'recalibrated on line data (screenshot)' };
  await writeFile(path.join(v2, 'manifest.json'), JSON.stringify(manifest, null, 2));
  const capture = (cam: string) => ({ type: 'files', path: path.join(root, cam), watch: true, pollMs: 50, stableMs: 50 });
  const run = await startRun(parseRunConfig({
    model: DEFAULT_DEMO_BUNDLE,
    backend: { name: 'onnxruntime', threads: 2 },
    sources: [{ id: 'top', capture: capture('top'), thresholds: { image: 0.55 } }, { id: 'side', capture: capture('side') }],
    sinks: [{ type: 'jsonl', path: path.join(root, 'out.jsonl'), fsync: false }],
    swap: { watch: path.join(root, 'watch'), pollS: 0.1 },
    metrics: { summaryIntervalS: 0 },
    logging: { level: 'silent' },
    page: { port: 0 },
  }));
  try {
    const frames = (await readdir(DEFAULT_DEMO_FRAMES)).filter((f) => f.endsWith('.png')).sort();
    const page = await browser.newPage({ viewport: { width: 1300, height: 1500 } });
    await page.goto(run.pageUrl!);
    const feed = async (names: string[], total: number) => {
      for (const f of names) for (const cam of ['top', 'side']) await copyFile(path.join(DEFAULT_DEMO_FRAMES, f), path.join(root, cam, f));
      await textIs(page, 'frames-count', String(total));
    };
    const half = Math.ceil(frames.length / 2);
    await feed(frames.slice(0, half), 2 * half);
    await cp(v2, path.join(root, 'watch', 'demo-v2'), { recursive: true });
    await textIs(page, 'model', 'demo-v2');
    await feed(frames.slice(half), 2 * frames.length);
    await page.locator('#show-heatmap').check();
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: path.join(out, 'station-page-cell.png') });
  } finally {
    run.stop();
    await run.done;
  }
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
  await cellPage();
  await report();
  console.log(`wrote ${['station-page.png', 'station-page-detail.png', 'station-page-cell.png', 'eval-report.png', 'eval-report-image.png'].map((f) => path.join(out, f)).join(', ')}`);
} finally {
  await browser.close();
  await rm(work, { recursive: true, force: true });
}
