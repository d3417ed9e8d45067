import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadRunConfig } from '../../src/config/load.js';
import type { InspectionEvent } from '../../src/publish/events.js';
import { startRun } from '../../src/pipeline/from-config.js';
import { noMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { needs, tools } from '../helpers/require-tool.js';
import { collect } from '../publish/collector.js';
import { FRAMES, FRAME_NAMES, ROOT, cliEntry, runNode } from './helpers.js';

const CELL_YAML = path.join(ROOT, 'examples', 'cell.yaml');

describe('examples/cell.yaml', () => {
  it('is a valid two-camera cell for the real loader', async () => {
    const c = await loadRunConfig(CELL_YAML);
    expect(c.source).toBeUndefined();
    expect(c.sources!.map((s) => [s.id, s.topic, s.capture.type])).toEqual([
      ['top', 'line1/paint-inspection/top', 'ffmpeg'],
      ['side', 'line1/paint-inspection/side', 'ffmpeg'],
    ]);
    expect(c.sources![1]!.thresholds).toEqual({ image: 0.7 });
    expect(c.backend.maxBatch).toBe(2);
    expect(c.swap).toMatchObject({ watch: path.join(ROOT, 'examples', 'models', 'incoming'), commands: true, shadowFrames: 8 });
  });

  // --check runs each camera's capture program probe (ffmpeg -version; the cameras themselves are not tried).
  needs(tools.ffmpeg()).it('passes `mmaerec-edge run --check` (only the metrics port moved off 9464) and leaves nothing behind', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-example-cell-check-'));
    try {
      const entry = cliEntry(dir);
      // As written, but with an absolute model path (the copy lives elsewhere) and any free metrics port: 9464 may
      // be taken on a test machine.
      const raw = parseYaml(await readFile(CELL_YAML, 'utf8'));
      raw.model = path.join(ROOT, 'models', 'demo');
      raw.metrics.port = 0;
      const variant = path.join(dir, 'cell-check.yaml');
      await writeFile(variant, stringifyYaml(raw));
      const before = await readdir(dir);
      const ran = await runNode([entry, 'run', '--check', '--config', variant]);
      expect(ran.code, ran.stderr).toBe(0);
      expect(ran.stdout).toMatch(/^sources\[0\]\.capture  ffmpeg: ffmpeg runs/m);
      expect(ran.stdout).toMatch(/^sources\[1\]\.capture  ffmpeg: ffmpeg runs/m);
      expect(ran.stdout.trimEnd().split('\n').at(-1)).toBe(`${variant}: valid (everything but the camera and the broker tried; nothing left behind)`);
      expect(await readdir(dir)).toEqual(before);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

needs(noMosquitto).describe('examples/cell.yaml end to end', () => {
  let broker: Mosquitto;
  let dir: string;
  beforeAll(async () => {
    broker = await startMosquitto();
    dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-example-cell-'));
  });
  afterAll(async () => {
    await broker?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs both cameras on the demo model: every frame of each camera at the subscriber, under its own topic', async () => {
    // The file as written, with the cameras swapped for examples/frames and the broker for a private Mosquitto.
    const raw = parseYaml(await readFile(CELL_YAML, 'utf8'));
    raw.model = path.join(ROOT, 'models', 'demo');
    for (const s of raw.sources) {
      s.capture = { type: 'files', path: path.join(FRAMES, '*.png') };
      delete s.roi; // the example frames are smaller than the 1280×720 cameras
    }
    raw.sinks[0].url = broker.url;
    raw.sinks[0].spool = { kind: 'memory' };
    raw.swap.watch = path.join(dir, 'incoming');
    raw.metrics = { summaryIntervalS: 0 };
    raw.logging = { level: 'silent' };
    const file = path.join(dir, 'cell.yaml');
    await writeFile(file, stringifyYaml(raw));
    const sub = await collect(broker.url, 'mmaerec/line1/paint-inspection/#');
    const run = await startRun(await loadRunConfig(file));
    const stats = await run.done;
    await sub.waitFor(() => [...sub.events.values()].filter((e) => e.schema !== 'mmaerec.status/1').length >= 2 * FRAME_NAMES.length, 30_000, 'both cameras\' events');
    await sub.end();
    expect(stats).toMatchObject({ frames: 16, errors: 0, undelivered: 0, cameras: { top: { frames: 8 }, side: { frames: 8 } } });
    const all = [...sub.events.values()].filter((e): e is InspectionEvent => e.schema === 'mmaerec.inspection/1');
    expect(all).toHaveLength(16); // publish: all, so every frame of both cameras
    for (const cam of ['top', 'side']) {
      expect(all.filter((e) => e.camera === cam).map((e) => e.frameId).sort()).toEqual(FRAME_NAMES);
    }
    expect(new Set(all.map((e) => `${e.line}/${e.station}`))).toEqual(new Set(['line1/paint-inspection']));
    expect(all.find((e) => e.camera === 'side')!.imageThreshold).toBe(0.7);
  }, 90_000);
});
