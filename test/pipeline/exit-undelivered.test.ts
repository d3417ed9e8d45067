import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedBundle } from '../../src/model/bundle.js';
import { freePort, noMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { collect } from '../publish/collector.js';
import { gradientPng, tinyBundle } from './helpers.js';
import { needs } from '../helpers/require-tool.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Issue 15, item 10: a finite `run` whose broker never acknowledged anything (down, wrong password, wrong CA)
 * used to exit 0. It exits 3 and says how many messages stay in the spool; 0 only when everything arrived.
 */
needs(noMosquitto).describe('run exit status with events left in the spool', () => {
  let dir: string;
  let entry: string;
  let bundle: LoadedBundle;
  let broker: Mosquitto;
  let n = 0;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-exit3-'));
    entry = path.join(dir, 'entry.mjs');
    await writeFile(entry, `const { main } = await import(${JSON.stringify(path.join(ROOT, 'src/cli/main.ts'))});\nprocess.exitCode = await main(process.argv.slice(2));\n`);
    bundle = await tinyBundle(path.join(dir, 'bundle'));
    await mkdir(path.join(dir, 'images'));
    for (let i = 0; i < 3; i++) await writeFile(path.join(dir, 'images', `img${i}.png`), await gradientPng(40, 40));
    broker = await startMosquitto({ users: { station: 'right-password' } });
  });
  afterAll(async () => {
    await broker?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stderr });
      });
    });
  }

  async function runWith(url: string, password: string): Promise<{ code: number | null; stderr: string; summary: string }> {
    const config = path.join(dir, `line${++n}.yaml`);
    await writeFile(config, [
      `model: ${bundle.dir}`,
      'source: { type: files, path: "images/*.png" }',
      `sinks: [{ type: mqtt, url: "${url}", line: l1, station: s1, camera: c1, publish: all, username: station, passwordEnv: MQTT_PW, spool: { dir: spool${n} } }]`,
      'metrics: { summaryIntervalS: 0 }',
    ].join('\n'));
    const r = await cli(['run', '--config', config], { MQTT_PW: password });
    const summary = r.stderr.split('\n').find((l) => l.includes('run finished')) ?? '';
    return { ...r, summary };
  }

  it('broker down: exit 3, and the summary counts the 3 events left in the spool', async () => {
    const r = await runWith(`mqtt://127.0.0.1:${await freePort()}`, 'right-password');
    expect(r.code, r.stderr).toBe(3);
    expect(JSON.parse(r.summary)).toMatchObject({ undelivered: 3, sinkFailures: 0 });
    expect(JSON.parse(r.summary).msg).toContain('3 messages left undelivered in the spool (3 in mqtt)');
    expect(r.stderr).toContain('mmaerec-edge: run finished with 3 messages (events, heatmap images) left undelivered in the spool');
  }, 90_000);

  it('wrong password: exit 3 with the events still spooled', async () => {
    const r = await runWith(broker.url, 'wrong-password');
    expect(r.code, r.stderr).toBe(3);
    expect(JSON.parse(r.summary)).toMatchObject({ undelivered: 3 });
  }, 90_000);

  it('broker up and the right password: every event arrives and the exit status is 0', async () => {
    const sub = await collect(broker.url, 'mmaerec/l1/s1/+', { username: 'station', password: 'right-password' });
    const r = await runWith(broker.url, 'right-password');
    const results = (): number => [...sub.events.values()].filter((e) => e.schema === 'mmaerec.inspection/1').length;
    await sub.waitFor(() => results() >= 3, 5000, `3 events (${r.stderr})`);
    await sub.end();
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.summary)).toMatchObject({ undelivered: 0 });
    expect(r.stderr).not.toContain('left undelivered');
  }, 90_000);

  it('`run --help` documents exit status 3', async () => {
    const r = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', entry, 'run', '--help'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.on('close', () => resolve(out));
    });
    expect(r).toMatch(/3 = finished, but messages \(events, heatmap images\) are left undelivered in the MQTT spool/);
  }, 30_000);
});
