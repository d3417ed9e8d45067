/**
 * Memory of the live station page's server over a long run: frames with their analyses (input, reconstruction
 * and map at model size) go through a StationFeed served by the page's HTTP server, with a server-sent-event
 * client reading the stream and the newest frame's three PNGs fetched as the page would; heap, external
 * (Buffers, typed arrays) and RSS are sampled after a forced GC every `--every` frames.
 *
 *   npm run bench:page -- [--frames 10000] [--size 256] [--keep 16] [--history 600] [--every 1000]
 *
 * Bounded means: once the ring of kept frames is full, the figures stop growing with the frame count.
 */
import { parseArgs } from 'node:util';
import { request } from 'node:http';
import type { InspectionResult } from '../src/decide/result.js';
import { PipelineMetrics } from '../src/observe/metrics.js';
import { StationFeed } from '../src/observe/station-page/feed.js';
import { serveStationPage } from '../src/observe/station-page/server.js';
import type { Analysis } from '../src/pipeline/inspector.js';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '10000' },
    size: { type: 'string', default: '256' },
    keep: { type: 'string', default: '16' },
    history: { type: 'string', default: '600' },
    every: { type: 'string', default: '1000' },
  },
});
const frames = Number(values.frames);
const size = Number(values.size);
const every = Number(values.every);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('bench:page needs --expose-gc (npm run bench:page passes it)');
  process.exit(2);
}

const metrics = new PipelineMetrics();
const feed = new StationFeed({ metrics, frames: Number(values.keep), history: Number(values.history) });
const page = await serveStationPage(feed, { port: 0 });

// an SSE client reading (and dropping) every event, like an open browser tab
let eventBytes = 0;
const stream = request(new URL('/events', page.url), (res) => res.on('data', (d: Buffer) => (eventBytes += d.length)));
stream.end();

const get = (path: string) => fetch(new URL(path, page.url)).then((r) => r.arrayBuffer());

function analysis(i: number): Analysis {
  const n = size * size;
  const map = new Float32Array(n);
  const input = new Float32Array(n * 3);
  for (let p = 0; p < n; p++) map[p] = ((p * 2654435761 + i * 97) % 1000) / 1000;
  for (let p = 0; p < n * 3; p++) input[p] = ((p + i) % 251) / 251;
  const defect = i % 7 === 0;
  const result: InspectionResult = {
    kind: 'inspection', frameId: `cam-1/frame-${i}.png`, capturedAt: Date.now(), finishedAt: Date.now(), score: defect ? 0.9 : 0.2,
    imageThreshold: 0.5, pixelThreshold: 0.5, verdict: defect ? 'defect' : 'ok',
    regions: defect ? [{ x: 10, y: 10, width: 20, height: 20, area: 300, maxScore: 0.9, meanScore: 0.7 }] : [],
    latency: { decodeMs: 2, preprocessMs: 3, inferMs: 20, scoreMs: 4, totalMs: 30 }, model: { bundleName: 'bench', bundleSha256: '0'.repeat(64), backend: 'none' },
  };
  return { result, map, mapWidth: size, mapHeight: size, input, recon: input.slice(), mapRegions: defect ? [{ x: 10, y: 10, width: 20, height: 20, area: 300, maxScore: 0.9, meanScore: 0.7 }] : [] };
}

const mib = (b: number) => (b / 2 ** 20).toFixed(1);
console.log(`station page memory, ${frames} frames of ${size}×${size}, keeping ${values.keep} frames' images and ${values.history} verdicts (Node ${process.version})`);
console.log('frames   heap MiB  external MiB  rss MiB  kept image MiB');
const started = performance.now();
for (let i = 1; i <= frames; i++) {
  const a = analysis(i);
  feed.observeAnalysis(a);
  metrics.observe(a.result);
  feed.observeRecord(a.result);
  // the open page fetches thumbnails and, now and then, a detail view's three images
  if (i % 4 === 0) await get(`/frames/${i}/input.png`);
  if (i % 40 === 0) await Promise.all([get(`/frames/${i}/recon.png`), get(`/frames/${i}/heatmap.png`), get(`/api/frames/${i}`)]);
  if (i % every === 0 || i === 100) {
    gc();
    const m = process.memoryUsage();
    const kept = (await feed.stats()).keptImageBytes;
    console.log(`${String(i).padStart(6)}   ${mib(m.heapUsed).padStart(8)}  ${mib(m.external + m.arrayBuffers).padStart(12)}  ${mib(m.rss).padStart(7)}  ${mib(kept).padStart(14)}`);
  }
}
console.log(`${((frames / (performance.now() - started)) * 1000).toFixed(0)} frames/s through the feed; ${mib(eventBytes)} MiB of events streamed`);
stream.destroy();
await page.close();
