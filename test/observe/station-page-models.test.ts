import { describe, expect, it } from 'vitest';
import type { InspectionResult, ModelProvenance } from '../../src/decide/result.js';
import { PipelineMetrics } from '../../src/observe/metrics.js';
import { StationFeed, type FeedEvent } from '../../src/observe/station-page/feed.js';
import type { StationServing } from '../../src/observe/station-page/models.js';
import type { ModelEventBody } from '../../src/publish/events.js';

const V1: ModelProvenance = { bundleName: 'line-v1', bundleSha256: '1'.repeat(64), backend: 'fake', scoringEngine: 'native-cpu' };
const V2: ModelProvenance = { bundleName: 'line-v2', bundleSha256: '2'.repeat(64), backend: 'fake', scoringEngine: 'native-cpu' };

/** An inspection of `camera` (a cell's record: it names its camera) by `model` against `threshold`. */
function record(i: number, camera: string | undefined, model: ModelProvenance, threshold: number): InspectionResult {
  return {
    kind: 'inspection', frameId: `f${i}.png`, capturedAt: i, finishedAt: i, score: 0.3, imageThreshold: threshold, pixelThreshold: 0.2,
    verdict: 0.3 >= threshold ? 'defect' : 'ok', regions: [], latency: { decodeMs: 0, preprocessMs: 0, inferMs: 0, scoreMs: 0, totalMs: 1 }, model,
    ...(camera ? { camera: { line: 'L1', station: 'S3', camera } } : {}),
  };
}

const swap = (model: ModelProvenance): ModelEventBody => ({
  at: '2026-12-04T00:00:00.000Z', outcome: 'swapped', trigger: 'watch', candidate: { path: '/m/v2', bundleName: model.bundleName, bundleSha256: model.bundleSha256 },
  inService: { bundleName: model.bundleName, bundleSha256: model.bundleSha256 },
});

/** A two-camera feed whose serving model the test replaces, like a swap does; with every event it pushes. */
function cell() {
  let serving: StationServing = { provenance: V1, cameras: [{ id: 'top', image: 0.5, pixel: 0.2, source: 'bundle' }, { id: 'side', image: 0.1, pixel: 0.2, source: 'override (bundle: bundle)' }] };
  const feed = new StationFeed({ metrics: new PipelineMetrics(), serving: () => serving });
  const events: FeedEvent[] = [];
  feed.subscribe((e) => events.push(e));
  return { feed, events, serve: (s: StationServing) => (serving = s) };
}

describe('station page model panel', () => {
  it('names each camera with its own thresholds before any frame', () => {
    const { feed } = cell();
    expect(feed.models()).toEqual({
      version: 0, inService: V1, swaps: [],
      cameras: [
        { id: 'top', imageThreshold: 0.5, pixelThreshold: 0.2, thresholdSource: 'bundle' },
        { id: 'side', imageThreshold: 0.1, pixelThreshold: 0.2, thresholdSource: 'override (bundle: bundle)' },
      ],
    });
  });

  it('puts the camera and bundle on each frame, and pushes the panel only when a camera\'s bundle or thresholds change', () => {
    const { feed, events } = cell();
    feed.observeRecord(record(1, 'top', V1, 0.5));
    feed.observeRecord(record(2, 'side', V1, 0.1));
    feed.observeRecord(record(3, 'top', V1, 0.5));
    expect(feed.verdictList().map((f) => [f.camera, f.model?.bundleName, f.imageThreshold])).toEqual([['top', 'line-v1', 0.5], ['side', 'line-v1', 0.1], ['top', 'line-v1', 0.5]]);
    // each camera's first frame changes the panel (its latest bundle); the third frame changes nothing
    expect(events.map((e) => e.kind)).toEqual(['frame', 'models', 'frame', 'models', 'frame']);
    const models = feed.models();
    expect(models.version).toBe(2);
    expect(models.cameras.map((c) => [c.id, c.latest?.bundleSha256])).toEqual([['top', V1.bundleSha256], ['side', V1.bundleSha256]]);
  });

  it('follows a swap: the new model in service at once, then each camera\'s frames of the new bundle', () => {
    const { feed, events, serve } = cell();
    feed.observeRecord(record(1, 'top', V1, 0.5));
    feed.observeRecord(record(2, 'side', V1, 0.1));
    serve({ provenance: V2, cameras: [{ id: 'top', image: 0.6, pixel: 0.25, source: 'v2 calibration' }, { id: 'side', image: 0.1, pixel: 0.25, source: 'override (bundle: v2 calibration)' }] });
    events.length = 0;
    feed.observeModelEvent(swap(V2));
    expect(events).toHaveLength(1);
    const atSwap = (events[0] as Extract<FeedEvent, { kind: 'models' }>).models;
    expect(atSwap.inService).toEqual(V2);
    expect(atSwap.swaps).toEqual([swap(V2)]);
    // thresholds in force are the new model's; the latest frames are still the old bundle's
    expect(atSwap.cameras.map((c) => [c.id, c.imageThreshold, c.thresholdSource, c.latest?.bundleName])).toEqual([['top', 0.6, 'v2 calibration', 'line-v1'], ['side', 0.1, 'override (bundle: v2 calibration)', 'line-v1']]);
    feed.observeRecord(record(3, 'top', V2, 0.6));
    expect(feed.models().cameras.map((c) => c.latest?.bundleName)).toEqual(['line-v2', 'line-v1']);
    expect(events.map((e) => e.kind)).toEqual(['models', 'frame', 'models']);
  });

  it('keeps the last 8 swap outcomes, oldest first', () => {
    const { feed } = cell();
    for (let i = 0; i < 20; i++) feed.observeModelEvent({ ...swap(V2), at: `2026-12-04T00:00:${String(i).padStart(2, '0')}.000Z` });
    const { swaps, version } = feed.models();
    expect(swaps.map((s) => s.at.slice(17, 19))).toEqual(['12', '13', '14', '15', '16', '17', '18', '19']);
    expect(version).toBe(20);
  });

  it('without a serving model (a bundle that failed to load), shows what the frames carry under the default camera', () => {
    const feed = new StationFeed({ metrics: new PipelineMetrics(), camera: 'cam-1' });
    expect(feed.models()).toEqual({ version: 0, cameras: [], swaps: [] });
    feed.observeRecord({ kind: 'error', frameId: 'a.png', capturedAt: 1, finishedAt: 1, code: 'E_BUNDLE', message: 'not inspected' });
    expect(feed.models().cameras).toEqual([]);
    feed.observeRecord(record(2, undefined, V2, 0.4));
    expect(feed.verdictList().map((f) => f.camera)).toEqual(['cam-1', 'cam-1']);
    expect(feed.models()).toEqual({ version: 1, inService: V2, swaps: [], cameras: [{ id: 'cam-1', imageThreshold: 0.4, pixelThreshold: 0.2, latest: { bundleName: 'line-v2', bundleSha256: V2.bundleSha256 } }] });
  });
});
