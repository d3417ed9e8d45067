import { afterEach, describe, expect, it } from 'vitest';
import { runConfigSchema } from '../../src/config/schema.js';
import type { InspectionResult } from '../../src/decide/result.js';
import { PipelineMetrics } from '../../src/observe/metrics.js';
import { authorized, isLoopback, pageToken } from '../../src/observe/station-page/auth.js';
import { StationFeed } from '../../src/observe/station-page/feed.js';
import { Ring } from '../../src/observe/station-page/ring.js';
import { MqttSink } from '../../src/publish/mqtt-sink.js';
import { freePort } from '../helpers/mosquitto.js';
import { serveStationPage, type StationPage } from '../../src/observe/station-page/server.js';
import type { Analysis } from '../../src/pipeline/inspector.js';

const W = 16;
const H = 12;

/** An inspection as the inspector makes it, with its analysis (map with one hot square → one region). */
function inspected(i: number, verdict: 'ok' | 'defect' = i % 3 === 0 ? 'defect' : 'ok'): Analysis {
  const result: InspectionResult = {
    kind: 'inspection', frameId: `frame-${i}.png`, capturedAt: 1_700_000_000_000 + i, finishedAt: Date.now(), score: verdict === 'defect' ? 0.9 : 0.1,
    imageThreshold: 0.5, pixelThreshold: 0.4, verdict, regions: verdict === 'defect' ? [{ x: 10, y: 8, width: 6, height: 4, area: 20, maxScore: 0.9, meanScore: 0.7 }] : [],
    latency: { decodeMs: 1, preprocessMs: 2, inferMs: 3, scoreMs: 1, totalMs: 8 + (i % 5) }, model: { bundleName: 'tiny', bundleSha256: 'a'.repeat(64), backend: 'fake' },
  };
  const map = new Float32Array(W * H).map((_, p) => (p % W > 8 && verdict === 'defect' ? 0.9 : 0.05));
  return { result, map, mapWidth: W, mapHeight: H, input: new Float32Array(W * H * 3).fill(0.5), recon: new Float32Array(W * H * 3).fill(0.4), mapRegions: verdict === 'defect' ? [{ x: 9, y: 0, width: 7, height: 12, area: 84, maxScore: 0.9, meanScore: 0.9 }] : [] };
}

function feedOf(n: number, options: { frames?: number; history?: number } = {}): { feed: StationFeed; metrics: PipelineMetrics } {
  const metrics = new PipelineMetrics();
  const feed = new StationFeed({ metrics, ...options });
  for (let i = 1; i <= n; i++) {
    const a = inspected(i);
    feed.observeAnalysis(a);
    metrics.observe(a.result);
    feed.observeRecord(a.result);
  }
  return { feed, metrics };
}

describe('Ring', () => {
  it('keeps the last `capacity` items, oldest first, and returns what it overwrote', () => {
    const r = new Ring<number>(3);
    expect([r.push(1), r.push(2), r.push(3)]).toEqual([undefined, undefined, undefined]);
    expect(r.push(4)).toBe(1);
    expect(r.toArray()).toEqual([2, 3, 4]);
    expect(r.findLast((v) => v < 4)).toBe(3);
    expect(r.size).toBe(3);
    expect(() => new Ring(0)).toThrow('Expected a positive integer for capacity but received 0');
  });
});

describe('StationFeed', () => {
  it('keeps the images of the last `frames` frames and the verdicts of the last `history`, whatever the run length', async () => {
    const { feed } = feedOf(500, { frames: 4, history: 50 });
    const list = feed.verdictList();
    expect(list).toHaveLength(50);
    expect(list[0]!.seq).toBe(451);
    expect(list.filter((f) => f.images).map((f) => f.seq)).toEqual([497, 498, 499, 500]);
    expect(feed.image(496, 'input')).toBeUndefined();
    const png = await feed.image(500, 'heatmap')!;
    expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    const stats = await feed.stats();
    // raw bytes of 4 frames (input + recon RGB, float map) plus the one PNG encoded
    expect(stats.keptImageBytes).toBe(4 * (W * H * 3 * 2 + W * H * 4) + png.byteLength);
  });

  it('takes its totals from PipelineMetrics and its rates from the verdicts', async () => {
    const { feed, metrics } = feedOf(9);
    metrics.drop(2);
    const s = await feed.stats();
    expect(s.totals).toEqual({ ok: 6, defects: 3, errors: 0, drops: 2, restarts: 0 });
    expect(s.defectRate).toBeCloseTo(3 / 9, 12);
    expect(s.p50Ms).toBe(10); // latencies 8 + (i % 5) for i = 1..9: sorted 8 8 9 9 10 10 11 11 12
    expect(s.p99Ms).toBe(12);
    expect(s.fps).toBeCloseTo(9 / 10, 12);
  });

  it('shows the MQTT link down, the backlog and the oldest undelivered event, read from the sink and its spool', async () => {
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const sink = await MqttSink.create({ url: `mqtt://127.0.0.1:${await freePort()}`, line: 'l', station: 's', camera: 'c', publish: 'all', heartbeatMs: 0, spool: { kind: 'memory' }, logger: quiet, closeTimeoutMs: 100 });
    try {
      const feed = new StationFeed({ metrics: new PipelineMetrics(), sinks: [sink] });
      expect((await feed.stats()).links).toEqual([{ sink: 'mqtt', connected: false, backlog: 0, backlogBytes: 0, delivered: 0, dropped: 0, oldestUndeliveredAt: null }]);
      const [first, second] = [inspected(1), inspected(2)];
      await sink.write(first.result);
      await sink.write(second.result);
      const [link] = (await feed.stats()).links;
      expect(link).toMatchObject({ sink: 'mqtt', connected: false, backlog: 2, delivered: 0, oldestUndeliveredAt: first.result.capturedAt });
      expect(link!.backlogBytes).toBeGreaterThan(0);
    } finally {
      await sink.close();
    }
  });

  it('lists an error record in the stream without images', () => {
    const feed = new StationFeed({ metrics: new PipelineMetrics() });
    feed.observeRecord({ kind: 'error', frameId: 'bad.png', capturedAt: 1, finishedAt: 2, code: 'E_DECODE', message: 'frame bad.png: not an image' });
    expect(feed.verdictList()).toEqual([{ seq: 1, camera: 'camera', frameId: 'bad.png', verdict: 'error', capturedAt: 1, finishedAt: 2, regions: 0, largestRegion: 0, code: 'E_DECODE', message: 'frame bad.png: not an image' }]);
  });
});

describe('station page access', () => {
  let page: StationPage | undefined;
  afterEach(async () => {
    await page?.close();
    page = undefined;
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '192.168.1.10', '::', 'station.local']) expect(isLoopback(h), h).toBe(false);
  });

  it('refuses a page bound beyond loopback without a token, and a token variable that is unset or short', () => {
    const base = { model: 'm', source: { type: 'files', path: 'x' }, sinks: [{ type: 'stdout' }] };
    const r = runConfigSchema.safeParse({ ...base, page: { port: 8080, host: '0.0.0.0' } });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['page', 'host']);
    expect(r.error!.issues[0]!.message).toContain('set page.tokenEnv');
    expect(runConfigSchema.parse({ ...base, page: { port: 8080, host: '0.0.0.0', tokenEnv: 'PAGE_TOKEN' } }).page).toEqual({ port: 8080, host: '0.0.0.0', tokenEnv: 'PAGE_TOKEN', frames: 16, history: 600 });
    expect(runConfigSchema.parse(base).page).toBeUndefined();
    expect(() => pageToken({ tokenEnv: 'PAGE_TOKEN' }, {})).toThrow('page.tokenEnv names PAGE_TOKEN, which is not set in the environment');
    expect(() => pageToken({ tokenEnv: 'PAGE_TOKEN' }, { PAGE_TOKEN: 'short' })).toThrow('holds 5 characters: give a token of at least 16');
    expect(pageToken({ tokenEnv: 'PAGE_TOKEN' }, { PAGE_TOKEN: '0123456789abcdef' })).toBe('0123456789abcdef');
  });

  it('answers 401 without the token, and serves with the bearer header or the cookie set by /?token=', async () => {
    const token = 'f00dfeedf00dfeed1234';
    page = await serveStationPage(feedOf(3).feed, { port: 0, token });
    const url = (p: string) => new URL(p, page!.url).href;
    const denied = await fetch(url('/api/state'));
    expect(denied.status).toBe(401);
    expect(await denied.text()).toContain('unauthorized: send Authorization: Bearer <token>');
    expect((await fetch(url('/'))).status).toBe(401);
    expect((await fetch(url('/api/state'), { headers: { authorization: `Bearer ${token}x` } })).status).toBe(401);
    const ok = await fetch(url('/api/state'), { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { frames: unknown[] }).frames).toHaveLength(3);
    const login = await fetch(url(`/?token=${token}`), { redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
    const page2 = await fetch(url('/'), { headers: { cookie: cookie.split(';')[0]! } });
    expect(page2.status).toBe(200);
    expect(await page2.text()).toContain('<title>mmaerec-edge — station</title>');
    expect(authorized({ headers: {} } as never, undefined)).toBe(true);
  });

  it('serves kept frames and names what happened to one that is gone', async () => {
    page = await serveStationPage(feedOf(20, { frames: 3 }).feed, { port: 0 });
    const get = (p: string) => fetch(new URL(p, page!.url));
    const png = await get('/frames/20/input.png');
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    const detail = (await (await get('/api/frames/18')).json()) as { record: InspectionResult; mapRegions: unknown[] };
    expect(detail.record.frameId).toBe('frame-18.png');
    expect(detail.mapRegions).toHaveLength(1);
    const gone = await get('/frames/3/recon.png');
    expect(gone.status).toBe(404);
    expect(await gone.text()).toBe('frame 3 is no longer kept: the page keeps the images of the last 3 frames (page.frames)\n');
    expect((await get('/frames/20/other.png')).status).toBe(404);
    expect((await fetch(new URL('/api/state', page.url), { method: 'POST' })).status).toBe(405);
    expect((await get('/assets/uPlot.iife.min.js')).status).toBe(200);
  });

  it('refuses a port that is taken with a one-line E_CONFIG', async () => {
    page = await serveStationPage(feedOf(0).feed, { port: 0 });
    const port = Number(new URL(page.url).port);
    await expect(serveStationPage(feedOf(0).feed, { port })).rejects.toThrow(`cannot serve the station page on 127.0.0.1:${port} (EADDRINUSE): choose another page.port`);
  });
});
