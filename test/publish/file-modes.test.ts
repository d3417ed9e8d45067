import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/capture/frame.js';
import { MemorySource } from '../../src/capture/memory-source.js';
import type { PipelineRecord } from '../../src/decide/result.js';
import { createLogger } from '../../src/observe/logger.js';
import { runPipeline } from '../../src/pipeline/runner.js';
import { JsonlSink } from '../../src/publish/jsonl-sink.js';
import { silentLogger } from '../../src/publish/logger.js';
import { MqttSink } from '../../src/publish/mqtt-sink.js';
import { createSpool } from '../../src/publish/spool/store.js';
import { freePort } from '../helpers/mosquitto.js';
import { errorRecord } from './fixtures/records.js';

/**
 * Issue 15, item 8: what the SDK writes followed the umask, so under umask 000 the spool was world-writable and
 * any local user could add events the station then publishes with its credentials. Every file is created 0600
 * and every folder 0700 (configurable), whatever the umask: these tests run under umask 000.
 */
const modeOf = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;

let root: string;
let umask: number;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'mmaerec-modes-'));
  umask = process.umask(0o000);
});
afterAll(async () => {
  process.umask(umask);
  await rm(root, { recursive: true, force: true });
});

describe('file modes under umask 000', () => {
  it('disk spool: the folders it creates are 0700, its segments and LOCK 0600', async () => {
    const dir = path.join(root, 'var', 'spool');
    const spool = await createSpool({ kind: 'disk', dir, fsync: 'never' });
    await spool.put(Buffer.from('event'));
    expect(await modeOf(path.join(root, 'var'))).toBe(0o700);
    expect(await modeOf(dir)).toBe(0o700);
    const names = await readdir(dir);
    expect(names).toContain('LOCK');
    expect(names.some((n) => n.endsWith('.seg'))).toBe(true);
    for (const n of names) expect([n, await modeOf(path.join(dir, n))]).toEqual([n, 0o600]);
    await spool.close();
  });

  it('disk spool: a segment left world-writable by an older SDK is tightened to 0600 on recovery', async () => {
    const dir = path.join(root, 'spool-recover');
    const first = await createSpool({ kind: 'disk', dir, fsync: 'never' });
    await first.put(Buffer.from('event'));
    await first.close();
    const seg = (await readdir(dir)).find((n) => n.endsWith('.seg'))!;
    await chmod(path.join(dir, seg), 0o666);
    const again = await createSpool({ kind: 'disk', dir, fsync: 'never' });
    expect(again.stats().entries).toBe(1);
    expect(await modeOf(path.join(dir, seg))).toBe(0o600);
    await again.close();
  });

  it('MQTT sink: spool.fileMode / spool.dirMode set the modes; a world-writable mode is an E_CONFIG line', async () => {
    const dir = path.join(root, 'spool-configured');
    const url = `mqtt://127.0.0.1:${await freePort()}`;
    const sink = await MqttSink.create({ url, line: 'l1', station: 's1', camera: 'c1', spool: { dir, fileMode: '0640', dirMode: '0750' }, logger: silentLogger, closeTimeoutMs: 100 });
    await sink.publishRecord(errorRecord(1));
    expect(await modeOf(dir)).toBe(0o750);
    for (const n of await readdir(dir)) expect([n, await modeOf(path.join(dir, n))]).toEqual([n, 0o640]);
    await sink.close();
    const refused = MqttSink.create({ url, line: 'l1', station: 's1', camera: 'c1', spool: { dir: path.join(root, 'x'), fileMode: '0666' }, logger: silentLogger });
    await expect(refused).rejects.toMatchObject({ code: 'E_CONFIG', message: 'mqtt.spool.fileMode 0666 lets every local user write: take the write bit off the last digit, e.g. "0600"' });
  });

  it('JSON lines sink: a new file is 0600 in 0700 folders; an existing file keeps the mode its owner gave it', async () => {
    const file = path.join(root, 'results', 'line1', 'out.jsonl');
    const sink = new JsonlSink({ path: file });
    await sink.write(errorRecord(1));
    await sink.close();
    expect(await modeOf(file)).toBe(0o600);
    expect(await modeOf(path.join(root, 'results'))).toBe(0o700);
    expect(await modeOf(path.join(root, 'results', 'line1'))).toBe(0o700);

    const shared = path.join(root, 'shared.jsonl');
    await writeFile(shared, '');
    await chmod(shared, 0o640);
    const again = new JsonlSink({ path: shared });
    await again.write(errorRecord(2));
    await again.close();
    expect(await modeOf(shared)).toBe(0o640);
  });

  it('heatmaps saved by the runner: files 0600 (or heatmapModes.file), the folder 0700', async () => {
    const heat = path.join(root, 'heat', 'maps');
    const withHeatmap = {
      async inspectRecord(frame: Frame): Promise<PipelineRecord> {
        return {
          kind: 'inspection', frameId: frame.id, capturedAt: frame.capturedAt, finishedAt: Date.now(), score: 0, imageThreshold: 1, pixelThreshold: 1,
          verdict: 'ok', regions: [], latency: { decodeMs: 0, preprocessMs: 0, inferMs: 0, scoreMs: 0, totalMs: 0 },
          model: { bundleName: 't', bundleSha256: 'x', backend: 'fake' },
          heatmap: { format: 'png', data: new Uint8Array([1, 2, 3]), width: 1, height: 1 },
        };
      },
    };
    const run = async (dir: string, heatmapModes?: { file?: number; dir?: number }): Promise<string[]> => {
      const source = new MemorySource();
      await source.push(new Uint8Array([1]));
      source.end();
      const paths: string[] = [];
      await runPipeline({ source, inspector: withHeatmap, sinks: [], heatmapDir: dir, heatmapModes, onRecord: (r) => r.kind === 'inspection' && r.heatmap?.path && paths.push(r.heatmap.path) });
      return paths;
    };
    const [saved] = await run(heat);
    expect(saved).toBeDefined();
    expect(await modeOf(saved!)).toBe(0o600);
    expect(await modeOf(heat)).toBe(0o700);
    expect(await modeOf(path.join(root, 'heat'))).toBe(0o700);
    const [shared] = await run(path.join(root, 'heat-shared'), { file: 0o640, dir: 0o750 });
    expect(await modeOf(shared!)).toBe(0o640);
    expect(await modeOf(path.join(root, 'heat-shared'))).toBe(0o750);
  });

  it('log file: created 0600 in a 0700 folder', async () => {
    const file = path.join(root, 'log', 'run.log');
    const logger = createLogger({ file });
    logger.info('hello');
    logger.flush();
    expect(await modeOf(file)).toBe(0o600);
    expect(await modeOf(path.join(root, 'log'))).toBe(0o700);
  });

  it('an existing folder keeps its mode (a shared /var/log is not chmod-ed)', async () => {
    const shared = path.join(root, 'shared-dir');
    await mkdir(shared);
    await chmod(shared, 0o755);
    const sink = new JsonlSink({ path: path.join(shared, 'out.jsonl') });
    await sink.write(errorRecord(3));
    await sink.close();
    expect(await modeOf(shared)).toBe(0o755);
    expect(await modeOf(path.join(shared, 'out.jsonl'))).toBe(0o600);
  });
});
