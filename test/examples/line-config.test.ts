import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadRunConfig } from '../../src/config/load.js';
import type { InspectionEvent } from '../../src/publish/events.js';
import { parseMqttConfig } from '../../src/publish/mqtt-config.js';
import { Inspector } from '../../src/pipeline/inspector.js';
import { noMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { collect } from '../publish/collector.js';
import { FRAMES, FRAME_NAMES, ROOT, cliEntry, makeCertificates, runNode, tinyBundle } from './helpers.js';
import { needs, tools } from '../helpers/require-tool.js';

const LINE_YAML = path.join(ROOT, 'examples', 'line.yaml');

let dir: string;
let entry: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-example-line-'));
  entry = cliEntry(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('examples/line.yaml', () => {
  it('is a valid run config for the real loader, with paths resolved against its folder', async () => {
    const c = await loadRunConfig(LINE_YAML);
    const examples = path.join(ROOT, 'examples');
    expect(c.model).toBe(path.join(ROOT, 'models', 'demo'));
    expect(c.source).toMatchObject({ type: 'ffmpeg', input: expect.stringMatching(/^rtsp:\/\//), width: 1280, height: 720, fps: 10, queue: { policy: 'drop-oldest' } });
    expect(c.roi).toEqual({ x: 280, y: 0, width: 720, height: 720 });
    expect(c.thresholds).toEqual({ image: expect.any(Number), pixel: expect.any(Number) });
    expect(c.heatmap).toMatchObject({ mode: 'defects', format: 'png', dir: path.join(examples, 'heatmaps') });
    expect(c.sinks.map((s) => s.type)).toEqual(['jsonl', 'mqtt']);
    expect(c.metrics).toMatchObject({ port: 9464, host: '0.0.0.0' });
    expect(c.logging).toEqual({ level: 'info', file: path.join(examples, 'logs', 'line1.log') });
    // The MQTT sink's own checks (beyond the schema): TLS needs mqtts://, cert needs key, a disk spool needs a dir.
    const { type: _type, ...mqtt } = c.sinks[1] as Extract<(typeof c.sinks)[number], { type: 'mqtt' }>;
    const m = parseMqttConfig(mqtt, 'sinks.1');
    expect(m.url).toMatch(/^mqtts:\/\//);
    expect(m.tls).toMatchObject({ ca: expect.stringMatching(/^\//), cert: expect.stringMatching(/^\//), key: expect.stringMatching(/^\//), rejectUnauthorized: true });
    expect(m).toMatchObject({ protocol: '5', qos: 1, publish: 'all', username: 'mmaerec-line1', spool: { kind: 'disk', dir: path.join(examples, 'spool', 'line1') } });
  });

  it('its commented two-camera cell block, put in place of source/roi/thresholds, is a valid cell for the real loader', async () => {
    const text = await readFile(LINE_YAML, 'utf8');
    const block = /^# --- two-camera cell \(begin\) -+\n([\s\S]*?)^# --- two-camera cell \(end\) -+$/m.exec(text)?.[1];
    expect(block, 'the marked block in examples/line.yaml').toBeDefined();
    // The YAML part of the block: from `# sources:` on, each line without its leading "# ".
    const yaml = block!.slice(block!.indexOf('# sources:')).split('\n').map((l) => l.replace(/^# ?/, '')).join('\n');
    const config = parseYaml(text);
    delete config.source;
    delete config.roi;
    delete config.thresholds;
    Object.assign(config, parseYaml(yaml));
    config.backend.maxBatch = 2;
    config.model = path.join(ROOT, 'models', 'demo');
    const variant = path.join(dir, 'line-cell.yaml');
    await writeFile(variant, stringifyYaml(config));
    const c = await loadRunConfig(variant);
    expect(c.sources!.map((s) => [s.id, s.topic, s.capture.type, s.roi?.width])).toEqual([
      ['top', 'line1/paint-inspection/top', 'ffmpeg', 720],
      ['side', 'line1/paint-inspection/side', 'ffmpeg', 1280],
    ]);
    expect(c.sources![1]!.thresholds).toEqual({ image: 0.7, pixel: 0.55 });
    expect(c.sinks.map((s) => s.type)).toEqual(['jsonl', 'mqtt']); // the rest of the file serves the cell as is
  });

  it('as written, `run --check` names the TLS file this machine lacks and leaves nothing behind', async () => {
    const ran = await runNode([entry, 'run', '--check', '--config', LINE_YAML]);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain(`mmaerec-edge: ${LINE_YAML}: sinks.1.tls.ca: cannot read "/etc/mmaerec-edge/tls/ca.pem" (ENOENT): give the path of the broker's CA certificate (PEM)\n`);
    // Everything it created to try the folders and files was removed again.
    for (const made of ['logs', 'spool', 'heatmaps', 'results']) expect(existsSync(path.join(ROOT, 'examples', made)), made).toBe(false);
  });

  // --check runs the capture program's version probe (the camera itself is not tried) and needs openssl for the certificates.
  needs(tools.openssl(), tools.ffmpeg()).it('with its TLS files in place, passes `mmaerec-edge run --check`', async () => {
    const certs = path.join(dir, 'certs');
    await mkdir(certs, { recursive: true });
    const c = makeCertificates(certs);
    const config = parseYaml(await readFile(LINE_YAML, 'utf8'));
    config.model = path.join(ROOT, 'models', 'demo');
    config.sinks[1].tls = { ...config.sinks[1].tls, ca: c.ca, cert: c.clientCert, key: c.clientKey };
    config.metrics.port = 0;
    const variant = path.join(dir, 'line-check.yaml');
    await writeFile(variant, stringifyYaml(config));
    const before = await readdir(dir);
    const ran = await runNode([entry, 'run', '--check', '--config', variant]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout.trimEnd().split('\n').at(-1)).toBe(`${variant}: valid (everything but the camera and the broker tried; nothing left behind)`);
    expect(await readdir(dir)).toEqual(before);
  });

  needs(tools.ffmpeg()).it('its camera section as written (size, rate, ROI, queue) works when fed a video file instead of the RTSP stream', async () => {
    const video = path.join(dir, 'frames.mkv');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-framerate', '10', '-pattern_type', 'glob', '-i', path.join(FRAMES, '*.png'), '-c:v', 'ffv1', video]);
    const bundle = await tinyBundle(path.join(dir, 'bundle-ffmpeg'));
    const config = parseYaml(await readFile(LINE_YAML, 'utf8'));
    config.model = bundle.dir;
    // A file is finite: no restart at its end, and `block` so that no frame is dropped on a slow test machine.
    config.source = { ...config.source, input: video, restart: false, queue: { ...config.source.queue, policy: 'block' } };
    config.sinks = [{ ...config.sinks[0], path: path.join(dir, 'ffmpeg.jsonl') }];
    config.heatmap.dir = path.join(dir, 'ffmpeg-heatmaps');
    config.metrics.port = 0;
    config.logging.file = path.join(dir, 'ffmpeg.log');
    const variant = path.join(dir, 'line-ffmpeg.yaml');
    await writeFile(variant, stringifyYaml(config));
    const ran = await runNode([entry, 'run', '--config', variant]);
    expect(ran.code, ran.stderr).toBe(0);
    const records = (await readFile(path.join(dir, 'ffmpeg.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
    // Every frame inspected (no E_INPUT: the example's ROI fits the 1280×720 frames ffmpeg scaled to).
    expect(records.map((r) => r.kind)).toEqual(Array(8).fill('inspection'));
    const { x, width } = config.roi;
    for (const r of records) {
      expect(r.imageThreshold).toBe(config.thresholds.image);
      for (const g of r.regions) {
        expect(g.x).toBeGreaterThanOrEqual(x);
        expect(g.x + g.width).toBeLessThanOrEqual(x + width);
        expect(g.y + g.height).toBeLessThanOrEqual(720);
      }
    }
  });

  needs(noMosquitto, tools.openssl()).it('runs end to end: the camera swapped for examples/frames, the broker for a private Mosquitto with mutual TLS', async () => {
    const certs = makeCertificates(dir);
    const bundle = await tinyBundle(path.join(dir, 'bundle'));
    const broker: Mosquitto = await startMosquitto({ tls: { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey, requireCertificate: true } });
    try {
      // Everything in the example stays as written except what ties it to a real plant.
      const config = parseYaml(await readFile(LINE_YAML, 'utf8'));
      const roi = { x: 16, y: 16, width: 160, height: 160 }; // the sample frames are 192×192, the example's camera 1280×720
      // The tiny bundle has random weights: pick the image threshold that splits the 8 frames 4/4, from scores
      // computed here with the same bundle, ROI and pixel threshold.
      const inspector = await Inspector.create(bundle, { roi, thresholds: { pixel: config.thresholds.pixel } });
      const expected = new Map<string, number>();
      for (const name of FRAME_NAMES) {
        expected.set(name, (await inspector.inspect({ id: name, capturedAt: 0, image: new Uint8Array(await readFile(path.join(FRAMES, name))) })).score);
      }
      await inspector.close();
      const sorted = [...expected.values()].sort((a, b) => a - b);
      const threshold = (sorted[3]! + sorted[4]!) / 2;

      config.model = bundle.dir;
      config.source = { type: 'files', path: path.join(FRAMES, '*.png') };
      config.roi = roi;
      config.thresholds.image = threshold;
      config.heatmap.dir = path.join(dir, 'heatmaps');
      config.sinks[0].path = path.join(dir, 'results', 'line1.jsonl');
      Object.assign(config.sinks[1], { url: broker.tlsUrl, tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey }, spool: { ...config.sinks[1].spool, dir: path.join(dir, 'spool') } });
      config.metrics.port = 0;
      config.logging.file = path.join(dir, 'line1.log');
      const variant = path.join(dir, 'line.yaml');
      await writeFile(variant, stringifyYaml(config));

      const sub = await collect(broker.url, 'mmaerec/line1/#');
      const ran = await runNode([entry, 'run', '--config', variant]);
      expect(ran.code, ran.stderr).toBe(0);

      const records = (await readFile(path.join(dir, 'results', 'line1.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
      expect(records.map((r) => r.frameId)).toEqual(FRAME_NAMES);
      for (const r of records) {
        expect(r).toMatchObject({ kind: 'inspection', imageThreshold: threshold, pixelThreshold: config.thresholds.pixel, model: { bundleSha256: bundle.sha256 } });
        expect(r.score).toBeCloseTo(expected.get(r.frameId)!, 6);
        expect(r.verdict).toBe(r.score >= threshold ? 'defect' : 'ok');
        for (const g of r.regions) {
          // Regions come back in frame pixels, inside the ROI.
          expect(g.x).toBeGreaterThanOrEqual(roi.x);
          expect(g.x + g.width).toBeLessThanOrEqual(roi.x + roi.width);
        }
        // heatmap.mode defects: a saved overlay for exactly the defect frames.
        if (r.verdict === 'defect') expect(existsSync(r.heatmap.path), r.frameId).toBe(true);
        else expect(r.heatmap).toBeUndefined();
      }
      const defects = records.filter((r) => r.verdict === 'defect');
      expect(defects).toHaveLength(4);
      // the frame's name without its extension, then .heatmap.png (no doubled extension: issue 20)
      expect((await readdir(path.join(dir, 'heatmaps'))).sort()).toEqual(defects.map((r) => `${r.frameId.replace(/\.[^.]+$/, '')}.heatmap.png`).sort());

      // publish: all over mutual TLS: every verdict arrives, schema-valid, matching the JSON-lines record.
      const results = () => [...sub.events.values()].filter((e): e is InspectionEvent => e.schema === 'mmaerec.inspection/1');
      await sub.waitFor(() => results().length === 8 && sub.binary.size === 4, 10_000, '8 inspection events and 4 heatmaps');
      await sub.end();
      expect(sub.invalid).toEqual([]);
      for (const e of results()) {
        const r = records.find((x) => x.frameId === e.frameId)!;
        expect({ verdict: e.verdict, score: e.score }).toEqual({ verdict: r.verdict, score: r.score });
      }
      const status = [...sub.events.values()].find((e) => e.schema === 'mmaerec.status/1');
      expect(status).toMatchObject({ line: 'line1', station: 'paint-inspection', camera: 'cam1' });

      const log = await readFile(path.join(dir, 'line1.log'), 'utf8');
      expect(log).toMatch(/"msg":"metrics endpoint"/);
      expect(log).toMatch(/run finished/);
    } finally {
      await broker.dispose();
    }
  });
});
