import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runConfigSchema } from '../../src/config/schema.js';
import { Inspector } from '../../src/pipeline/inspector.js';
import { startRun, type RunHandle } from '../../src/pipeline/from-config.js';
import type { InspectionEvent } from '../../src/publish/events.js';
import { launchChromium } from '../helpers/browser.js';
import { noMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { needs, tools } from '../helpers/require-tool.js';
import { collect, type Collector } from '../publish/collector.js';
import { gradientPng, tinyBundle } from '../pipeline/helpers.js';

/**
 * Issue 18, done-when: the live station page of a real `run` (files source watching a folder, MQTT sink to a
 * private Mosquitto, page on a free port) opened in headless Chromium shows the frames and counters that a
 * real MQTT subscriber received in the same test, and updates when a frame arrives.
 */
const FIRST = 6;

needs(noMosquitto, tools.chromium(), tools.native()).describe('live station page in headless Chromium', () => {
  let dir: string;
  let broker: Mosquitto;
  let sub: Collector;
  let run: RunHandle;
  let browser: Browser;
  let page: Page;
  let images: string;

  const inspections = () => [...sub.events.values()].filter((e): e is InspectionEvent => e.schema === 'mmaerec.inspection/1');
  const frameImage = (i: number) => gradientPng(40, 40, i % 2 ? { x: 8 + i, y: 10, size: 12 } : undefined);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-page-'));
    images = path.join(dir, 'images');
    await mkdir(images);
    const bundle = await tinyBundle(path.join(dir, 'bundle'));
    const bytes = await Promise.all(Array.from({ length: FIRST + 1 }, (_, i) => frameImage(i)));
    // an image threshold between the frames' scores, so that the page shows both verdicts
    const probe = await Inspector.create(bundle);
    const scores = (await Promise.all(bytes.map((image, i) => probe.inspect({ id: `p${i}`, capturedAt: 0, image })))).map((r) => r.score).sort((a, b) => a - b);
    await probe.close();
    const threshold = (scores[0]! + scores[scores.length - 1]!) / 2;
    for (let i = 0; i < FIRST; i++) await writeFile(path.join(images, `f${i}.png`), bytes[i]!);
    broker = await startMosquitto();
    sub = await collect(broker.url, 'mmaerec/l1/s1/#');
    const config = runConfigSchema.parse({
      model: bundle.dir,
      source: { type: 'files', path: path.join(images, '*.png'), watch: true, pollMs: 50, stableMs: 50 },
      thresholds: { image: threshold },
      sinks: [{ type: 'mqtt', url: broker.url, line: 'l1', station: 's1', camera: 'c1', publish: 'all', heartbeatMs: 0, spool: { kind: 'memory' } }],
      metrics: { summaryIntervalS: 0 },
      logging: { level: 'silent' },
      page: { port: 0, frames: 4 },
    });
    run = await startRun(config);
    await sub.waitFor(() => inspections().length === FIRST, 30_000, `${FIRST} inspection events`);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const external: string[] = [];
    await page.route('**/*', (route) => (route.request().url().startsWith(run.pageUrl!) ? route.continue() : (external.push(route.request().url()), route.abort())));
    await page.goto(run.pageUrl!);
    expect(external).toEqual([]);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    run?.stop();
    await run?.done;
    await sub?.end();
    await broker?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const text = (id: string) => page.locator(`#${id}`).innerText();
  /** Waits until the element's text is `value` (the page updates it from server-sent events). */
  const textBecomes = (selector: string, value: string) =>
    page.waitForFunction(([sel, v]) => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector(sel!)?.textContent === v, [selector, value]);
  /** Waits until every image under `selector` is decoded at `width` pixels. */
  const imagesDecoded = (selector: string, width: number) =>
    page.waitForFunction(([sel, w]) => {
      const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ complete: boolean; naturalWidth: number }> } }).document;
      const imgs = Array.from(doc.querySelectorAll(sel as string));
      return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth === w);
    }, [selector, width] as const);

  it('shows the counters and frames the MQTT subscriber received', async () => {
    const events = inspections();
    const defects = events.filter((e) => e.verdict === 'defect').length;
    expect(defects).toBeGreaterThan(0);
    expect(defects).toBeLessThan(FIRST);
    await textBecomes('#frames-count', String(FIRST));
    expect(await text('defects-count')).toBe(String(defects));
    expect(await text('defect-rate')).toBe(`${((defects / FIRST) * 100).toFixed(1)} %`);
    expect(await text('drops')).toBe('0');
    // the link as the sink sees it: connected, nothing left in the spool
    await textBecomes('#links tr[data-sink=mqtt] .link', 'connected');
    expect(await page.locator('#links tr[data-sink=mqtt] .delivered').innerText()).toBe(String(FIRST));
    // the verdict stream: one row per event, same verdict and score
    const rows = await page.$$eval('#stream tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows).toHaveLength(FIRST);
    const byFrame = new Map(events.map((e) => [e.frameId, e]));
    for (const [, frameId, verdict, score] of rows) {
      const e = byFrame.get(frameId!)!;
      expect(e, `row for ${frameId}`).toBeDefined();
      expect(verdict).toBe(e.verdict);
      expect(score).toBe(e.score.toFixed(4));
    }
    // thumbnails: the last 4 frames (page.frames), each image decoded
    const thumbs = page.locator('.thumb');
    expect(await thumbs.count()).toBe(4);
    await imagesDecoded('.thumb img.input', 32);
    const thumbVerdicts = await thumbs.evaluateAll((ts) => ts.map((t) => [t.getAttribute('data-frame-id'), t.getAttribute('data-verdict')]));
    for (const [frameId, verdict] of thumbVerdicts) expect(verdict).toBe(byFrame.get(frameId!)!.verdict);
    // the model line names the bundle the events carry
    expect(await text('model')).toContain(events[0]!.model.bundleSha256.slice(0, 12));
  });

  it('filters the stream to defects only', async () => {
    await page.locator('#only-defects').check();
    const visible = await page.locator('#stream tbody tr:visible').count();
    expect(visible).toBe(inspections().filter((e) => e.verdict === 'defect').length);
    await page.locator('#only-defects').uncheck();
    expect(await page.locator('#stream tbody tr:visible').count()).toBe(FIRST);
    // by region size: the largest region's area in frame pixels, as the events carry it
    const largest = (e: InspectionEvent) => e.regions.reduce((m, r) => Math.max(m, r.area), 0);
    const areas = inspections().map(largest).sort((a, b) => a - b);
    const cut = areas[Math.floor(areas.length / 2)]! + 1;
    await page.locator('#min-area').fill(String(cut));
    expect(await page.locator('#stream tbody tr:visible').count()).toBe(areas.filter((a) => a >= cut).length);
    await page.locator('#min-area').fill('0');
    expect(await page.locator('#stream tbody tr:visible').count()).toBe(FIRST);
  });

  it('updates when a frame arrives', async () => {
    const before = await page.locator('#score-chart .u-over').count();
    expect(before).toBe(1);
    await writeFile(path.join(images, 'late.png'), await frameImage(FIRST));
    await sub.waitFor(() => inspections().length === FIRST + 1, 30_000, 'the late frame\'s event');
    const late = inspections().find((e) => e.frameId.endsWith('late.png'))!;
    await textBecomes('#frames-count', String(FIRST + 1));
    await page.waitForSelector(`.thumb[data-frame-id="${late.frameId}"]`);
    expect(await page.locator('.thumb').first().getAttribute('data-frame-id')).toBe(late.frameId);
    expect(await page.locator('.thumb').count()).toBe(4);
    const top = await page.$$eval('#stream tbody tr:first-child td', (tds) => tds.map((td) => td.textContent));
    expect(top[1]).toBe(late.frameId);
    expect(top[3]).toBe(late.score.toFixed(4));
  });

  it('opens a frame: input, reconstruction, heatmap with regions, scores and latency split', async () => {
    await page.locator('#show-heatmap').check();
    expect(await page.locator('.thumb img.heatmap:visible').count()).toBe(4);
    const first = page.locator('.thumb').first();
    const frameId = await first.getAttribute('data-frame-id');
    const event = inspections().find((e) => e.frameId === frameId)!;
    await first.click();
    await page.waitForSelector('#detail[open]');
    await imagesDecoded('#detail img', 32);
    const srcs = await page.$$eval('#detail img', (imgs) => imgs.map((i) => new URL((i as unknown as { src: string }).src).pathname));
    expect(srcs.some((s) => s.endsWith('/input.png'))).toBe(true);
    expect(srcs.some((s) => s.endsWith('/recon.png'))).toBe(true);
    expect(srcs.some((s) => s.endsWith('/heatmap.png'))).toBe(true);
    expect(await text('detail-title')).toContain(frameId!);
    expect(await page.locator('#detail-scores').innerText()).toContain(event.score.toFixed(5));
    expect(await page.locator('#detail-regions tr').count()).toBe(event.regions.length + 1);
    expect(await page.locator('#panel-heatmap svg.boxes rect').count()).toBe(Math.min(event.regions.length, 16));
    expect(Number(await page.locator('#detail-latency').getAttribute('data-total-ms'))).toBeCloseTo(event.latency.totalMs, 1);
    expect(await page.locator('#detail-latency span').count()).toBe(5);
  });
});
