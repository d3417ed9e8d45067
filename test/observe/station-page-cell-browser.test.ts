import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseRunConfig } from '../../src/config/load.js';
import { createBundle, writeBundle, type LoadedBundle } from '../../src/model/bundle.js';
import { presetConfig } from '../../src/model/config.js';
import { startRun, type RunHandle } from '../../src/pipeline/from-config.js';
import type { InspectionEvent, ModelEvent } from '../../src/publish/events.js';
import { launchChromium } from '../helpers/browser.js';
import { noMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { needs, tools } from '../helpers/require-tool.js';
import { collect, type Collector } from '../publish/collector.js';
import { gradientPng } from '../pipeline/helpers.js';

/**
 * Issue 18, the multi-camera run: a real two-camera `run` (sources: top with its own image threshold, side with
 * the bundle's) whose station page, opened in headless Chromium, shows each camera's frames against that
 * camera's threshold, and follows a model swap (a bundle appearing in swap.watch): the model in service, the
 * swap, each camera's new threshold and, frame by frame, the bundle that produced it — the same bundle the
 * MQTT events of those frames name.
 */
const TOP_THRESHOLD = 0.25;
const V1 = { image: 0.5, pixel: 0.5, source: 'v1 calibration' };
const V2 = { image: 0.75, pixel: 0.5, source: 'v2 calibration' };
const BEFORE = 3;
const AFTER = 2;

async function bundle(dir: string, name: string, seed: number, thresholds: typeof V1): Promise<LoadedBundle> {
  const config = presetConfig('lite', { inputSize: 32, backbone: { widthDivisor: 4 }, levelChannels: [16, 16, 32, 32], headChannels: 8 });
  return writeBundle(dir, await createBundle({ config, seed, name, thresholds }));
}

needs(noMosquitto, tools.chromium()).describe('station page of a two-camera run in headless Chromium', () => {
  let dir: string;
  let broker: Mosquitto;
  let sub: Collector;
  let run: RunHandle;
  let browser: Browser;
  let page: Page;
  let v1: LoadedBundle;
  let v2: LoadedBundle;

  const inspections = () => [...sub.events.values()].filter((e): e is InspectionEvent => e.schema === 'mmaerec.inspection/1');
  const swaps = () => [...sub.events.values()].filter((e): e is ModelEvent => e.schema === 'mmaerec.model/1');
  const writeFrames = async (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      for (const cam of ['top', 'side']) await writeFile(path.join(dir, cam, `f${i}.png`), await gradientPng(40, 40, i % 2 ? { x: 6 + i, y: 8, size: 10 } : undefined));
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-page-cell-'));
    v1 = await bundle(path.join(dir, 'v1'), 'line-v1', 1, V1);
    v2 = await bundle(path.join(dir, 'staging', 'v2'), 'line-v2', 2, V2);
    for (const d of ['top', 'side', 'watch']) await mkdir(path.join(dir, d));
    broker = await startMosquitto();
    sub = await collect(broker.url, 'mmaerec/#');
    const config = parseRunConfig({
      model: v1.dir,
      backend: { name: 'onnxruntime', threads: 1 },
      sources: [
        { id: 'top', capture: { type: 'files', path: path.join(dir, 'top'), watch: true, pollMs: 30, stableMs: 30 }, thresholds: { image: TOP_THRESHOLD } },
        { id: 'side', capture: { type: 'files', path: path.join(dir, 'side'), watch: true, pollMs: 30, stableMs: 30 } },
      ],
      sinks: [{ type: 'mqtt', url: broker.url, line: 'L1', station: 'S3', camera: 'cell', publish: 'all', heartbeatMs: 0, spool: { kind: 'memory' } }],
      swap: { watch: path.join(dir, 'watch'), pollS: 0.05 },
      metrics: { summaryIntervalS: 0 },
      logging: { level: 'silent' },
      page: { port: 0, frames: 8 },
    });
    run = await startRun(config);
    await writeFrames(0, BEFORE);
    await sub.waitFor(() => inspections().length === 2 * BEFORE, 60_000, `${2 * BEFORE} inspection events`);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    await page.goto(run.pageUrl!);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    run?.stop();
    await run?.done;
    await sub?.end();
    await broker?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const cell = (camera: string, cls: string) => page.locator(`#cameras tr[data-camera="${camera}"] .${cls}`).innerText();
  /** Waits until the element's text contains `value` (the page updates it from server-sent events). */
  const textHas = (selector: string, value: string) =>
    page.waitForFunction(([sel, v]) => ((globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector(sel!)?.textContent ?? '').includes(v!), [selector, value], { timeout: 30_000 });
  /** The verdict stream's rows: frame id → [camera, threshold, model] as shown. */
  const streamRows = async () => {
    const rows = await page.$$eval('#stream tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    return rows.map((r) => ({ frameId: r[1]!, threshold: r[4]!, camera: r[8]!, model: r[9]! }));
  };
  /** The chart's legend with the cursor on the newest frame: series label → value shown. */
  const legendAtNewest = async () => {
    const over = page.locator('#score-chart .u-over');
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width - 1, box.y + box.height / 2);
    return Object.fromEntries(await page.$$eval('#score-chart .u-legend .u-series', (trs) => trs.slice(1).map((tr) => [tr.querySelector('.u-label')!.textContent, tr.querySelector('.u-value')!.textContent])));
  };
  const short = (b: LoadedBundle) => b.sha256.slice(0, 12);

  it('shows each camera with its own threshold, on its frames and in the chart', async () => {
    await page.waitForFunction((n) => (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<unknown> } }).document.querySelectorAll('#stream tbody tr').length === n, 2 * BEFORE);
    expect(await cell('top', 'image-threshold')).toBe(TOP_THRESHOLD.toFixed(4));
    expect(await cell('top', 'threshold-source')).toBe('override (bundle: v1 calibration)');
    expect(await cell('side', 'image-threshold')).toBe(V1.image.toFixed(4));
    expect(await cell('side', 'threshold-source')).toBe('v1 calibration');
    for (const camera of ['top', 'side']) expect(await cell(camera, 'latest-model')).toContain(`line-v1 (sha256 ${short(v1)}`);
    expect(await page.locator('#model').innerText()).toContain(`line-v1 (sha256 ${short(v1)}`);
    // every row names the camera and threshold its MQTT event carries
    const events = new Map(inspections().map((e) => [`${e.camera}/${e.frameId}`, e]));
    const rows = await streamRows();
    expect(rows).toHaveLength(2 * BEFORE);
    for (const r of rows) {
      const e = events.get(`${r.camera}/${r.frameId}`);
      expect(e, `event of ${r.camera}/${r.frameId}`).toBeDefined();
      expect(r.threshold).toBe(e!.imageThreshold.toFixed(4));
    }
    expect(new Set(rows.map((r) => r.camera))).toEqual(new Set(['top', 'side']));
    // the thumbnails carry their camera: 3 of each (page.frames 8 keeps all 6)
    expect(await page.locator('.thumb[data-camera=top]').count()).toBe(BEFORE);
    expect(await page.locator('.thumb[data-camera=side] .cam:visible').count()).toBe(BEFORE);
    // one score and one threshold series per camera, each threshold at its camera's value
    const legend = await legendAtNewest();
    expect(Object.keys(legend).sort()).toEqual(['side score', 'side threshold', 'top score', 'top threshold']);
    expect(legend['top threshold']).toBe(TOP_THRESHOLD.toFixed(4));
    expect(legend['side threshold']).toBe(V1.image.toFixed(4));
  });

  it('shows only the chosen camera when one is selected', async () => {
    await page.locator('#camera-filter').selectOption('side');
    expect(await page.locator('#stream tbody tr:visible').count()).toBe(BEFORE);
    expect(await page.locator('#stream tbody tr:visible').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-camera')))).toEqual(Array(BEFORE).fill('side'));
    expect(await page.locator('.thumb').count()).toBe(BEFORE);
    expect(await page.locator('.thumb[data-camera=top]').count()).toBe(0);
    await page.locator('#camera-filter').selectOption('');
    expect(await page.locator('#stream tbody tr:visible').count()).toBe(2 * BEFORE);
  });

  it('follows a swap: the new model, its thresholds, and the bundle of every frame after it', async () => {
    await rename(path.join(dir, 'staging', 'v2'), path.join(dir, 'watch', 'v2'));
    await sub.waitFor(() => swaps().some((e) => e.outcome === 'swapped'), 60_000, 'the swap event');
    // at once, before any frame of the new bundle: the model in service, the swap, the thresholds now in force
    await textHas('#model', `line-v2 (sha256 ${short(v2)}`);
    await textHas('#swaps li[data-outcome=swapped]', `swapped (watch): line-v2 (sha256 ${short(v2)}`);
    expect(await cell('side', 'image-threshold')).toBe(V2.image.toFixed(4));
    expect(await cell('side', 'threshold-source')).toBe('v2 calibration');
    expect(await cell('top', 'image-threshold')).toBe(TOP_THRESHOLD.toFixed(4));
    expect(await cell('side', 'latest-model')).toContain('line-v1');

    await writeFrames(BEFORE, BEFORE + AFTER);
    await sub.waitFor(() => inspections().length === 2 * (BEFORE + AFTER), 60_000, 'the frames after the swap');
    for (const camera of ['top', 'side']) await textHas(`#cameras tr[data-camera="${camera}"] .latest-model`, `line-v2 (sha256 ${short(v2)}`);
    await page.waitForFunction((n) => (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<unknown> } }).document.querySelectorAll('#stream tbody tr').length === n, 2 * (BEFORE + AFTER));
    // frame by frame, the bundle the page names is the one the frame's MQTT event names
    const events = new Map(inspections().map((e) => [`${e.camera}/${e.frameId}`, e]));
    const rows = await streamRows();
    for (const r of rows) {
      const e = events.get(`${r.camera}/${r.frameId}`)!;
      expect(r.model, `${r.camera}/${r.frameId}`).toBe(`${e.model.bundleName} ${e.model.bundleSha256.slice(0, 12)}`);
      expect(r.threshold).toBe(e.imageThreshold.toFixed(4));
    }
    expect(rows.filter((r) => r.model.startsWith('line-v2')).map((r) => r.frameId).sort()).toEqual(['f3.png', 'f3.png', 'f4.png', 'f4.png']);
    const legend = await legendAtNewest();
    expect(legend['side threshold']).toBe(V2.image.toFixed(4));
    expect(legend['top threshold']).toBe(TOP_THRESHOLD.toFixed(4));
    // the detail view names the camera and the bundle of the frame
    await page.locator('.thumb[data-camera=side]').first().click();
    await page.waitForSelector('#detail[open]');
    const detail = await page.locator('#detail-scores').innerText();
    expect(detail).toContain('side');
    expect(detail).toContain(`line-v2 (sha256 ${short(v2)}`);
  });
});
