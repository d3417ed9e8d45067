import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigProblems, loadRunConfig, parseRunConfig } from '../../src/config/load.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('run config', () => {
  it('loads YAML, fills defaults and resolves paths against the config folder', async () => {
    const file = path.join(dir, 'line.yaml');
    await writeFile(file, [
      'model: ./bundle',
      'source: { type: files, path: "in/*.png", watch: true }',
      'roi: { x: 10, y: 0, width: 100, height: 50 }',
      'thresholds: { image: 0.4 }',
      'sinks:',
      '  - { type: jsonl, path: out/results.jsonl }',
      '  - { type: stdout, format: text }',
      'heatmap: { mode: defects, dir: heat }',
    ].join('\n'));
    const c = await loadRunConfig(file);
    expect(c.model).toBe(path.join(dir, 'bundle'));
    expect(c.source).toMatchObject({ type: 'files', path: path.join(dir, 'in/*.png'), watch: true, stableMs: 150 });
    expect(c.sinks[0]).toEqual({ type: 'jsonl', path: path.join(dir, 'out/results.jsonl'), heatmaps: 'omit', fsync: true });
    expect(c.heatmap).toEqual({ mode: 'defects', format: 'png', quality: 85, maxEdge: 1024, dir: path.join(dir, 'heat') });
    expect(c.pipeline.maxInFlight).toBeUndefined(); // startRun then keeps backend.sessions + 2 in flight
    expect(c.backend).toEqual({ name: 'auto', sessions: 1, precision: 'fp32', requireNativeScoring: true });
    expect(c.thresholds).toEqual({ image: 0.4 });
  });

  it('loads JSON and keeps URLs and devices as they are', async () => {
    const file = path.join(dir, 'line.json');
    await writeFile(file, JSON.stringify({ model: '/b', source: { type: 'ffmpeg', input: 'rtsp://cam/1', width: 640, height: 480 }, sinks: [{ type: 'stdout' }] }));
    const c = await loadRunConfig(file);
    expect(c.source).toMatchObject({ type: 'ffmpeg', input: 'rtsp://cam/1', stallTimeoutMs: 10_000, loop: false });
  });

  it('names every bad field and its fix, one line each; the error message is the first of them, on one line', () => {
    let message = '';
    let lines: string[] = [];
    try {
      parseRunConfig({ model: 'b', source: { type: 'camera' }, sinks: [], roi: { x: -1, y: 0, width: 10, height: 10 }, treshold: 1 }, 'line.yaml');
    } catch (err) {
      expect(err).toMatchObject({ code: 'E_CONFIG' });
      message = (err as Error).message;
      lines = (err as ConfigProblems).problems;
    }
    expect(message).not.toContain('\n');
    expect(message).toBe(`${lines[0]} (and ${lines.length - 1} more problems: \`mmaerec-edge run --check\` lists them all)`);
    expect(lines).toContain(`line.yaml: source.type: Invalid discriminator value. Expected 'files' | 'ffmpeg' | 'gstreamer': set source.type to files, ffmpeg or gstreamer`);
    expect(lines).toContain('line.yaml: sinks: Too small: expected array to have >=1 items: list at least one sink, e.g. sinks: [{ type: jsonl, path: results.jsonl }]');
    expect(lines.find((l) => l.startsWith('line.yaml: roi.x:'))).toMatch(/: give roi as integers/);
    expect(lines).toContain('line.yaml: (top level): unknown key "treshold": remove it or correct its spelling');
  });

  it('reports a missing field as missing, with what to add', () => {
    expect(() => parseRunConfig({ source: { type: 'files', path: 'x' }, sinks: [{ type: 'stdout' }] }, 'c.yaml')).toThrow(
      'c.yaml: model: missing (expected string): set model to the bundle directory (made by "mmaerec-edge create" or "train")',
    );
    expect(() => parseRunConfig({ model: 'm', source: { type: 'ffmpeg', input: 'x.mp4' }, sinks: [{ type: 'stdout' }] }, 'c.yaml')).toThrow(
      /c.yaml: source.width: missing \(expected number\): set source.width and source.height to the frame size/,
    );
  });

  it('refuses a capture backoff whose maxMs is below initialMs, naming the field and the fix', () => {
    const source = { type: 'ffmpeg', input: 'rtsp://cam/1', width: 64, height: 48, backoff: { initialMs: 5000, maxMs: 1000 } };
    expect(() => parseRunConfig({ model: 'm', source, sinks: [{ type: 'stdout' }] }, 'c.yaml')).toThrow(
      'c.yaml: source.backoff.maxMs: is below backoff.initialMs: make source.backoff.maxMs at least source.backoff.initialMs (default 250)',
    );
  });

  it('rejects unreadable files and syntax errors with E_CONFIG', async () => {
    await expect(loadRunConfig(path.join(dir, 'none.yaml'))).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringMatching(/cannot read config .*none.yaml \(ENOENT\): check the path/) });
    const bad = path.join(dir, 'bad.yaml');
    await writeFile(bad, 'model: [unclosed\n');
    await expect(loadRunConfig(bad)).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringMatching(/bad.yaml is not valid YAML \(.+\): fix the syntax/) });
  });
});

describe('run config: mqtt sinks', () => {
  it('validates mqtt sinks with the MQTT sink schema and resolves the spool folder', async () => {
    const file = path.join(dir, 'mqtt.yaml');
    await writeFile(file, [
      'model: b',
      'source: { type: files, path: "*.png" }',
      'sinks:',
      '  - { type: mqtt, url: "mqtt://127.0.0.1:1883", line: l1, station: s1, camera: c1, spool: { dir: spool } }',
    ].join('\n'));
    const c = await loadRunConfig(file);
    expect(c.sinks[0]).toMatchObject({ type: 'mqtt', qos: 1, spool: { kind: 'disk', dir: path.join(dir, 'spool') } });
    expect(() => parseRunConfig({ model: 'm', source: { type: 'files', path: 'x' }, sinks: [{ type: 'mqtt', url: 'mqtt://h', line: 'l', station: 's', camera: 'c', qso: 1 }] }, 'c.yaml'))
      .toThrow('c.yaml: sinks.0: unknown key "qso": remove it or correct its spelling');
  });
});
