import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';
import { checkRunConfig } from '../../src/config/check.js';
import { parseRunConfig } from '../../src/config/load.js';
import type { LoadedBundle } from '../../src/model/bundle.js';
import { gradientPng, tinyBundle } from './helpers.js';
import { runCli, writeCliEntry, type CliResult } from '../helpers/cli.js';

// Issue 15, item 9: `run --check` tries everything that can be tried without a camera or a broker, and
// leaves nothing behind.

const ROOT = path.resolve(import.meta.dirname, '../..');

let dir: string;
let entry: string;
let bundle: LoadedBundle;
let badBundle: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-check-'));
  entry = await writeCliEntry(dir);
  bundle = await tinyBundle(path.join(dir, 'bundle'));
  badBundle = path.join(dir, 'bad-bundle');
  await tinyBundle(badBundle);
  const m = JSON.parse(await readFile(path.join(badBundle, 'manifest.json'), 'utf8'));
  m.scoring.structureWindow = 2;
  await writeFile(path.join(badBundle, 'manifest.json'), JSON.stringify(m));
  await mkdir(path.join(dir, 'frames'));
  await writeFile(path.join(dir, 'frames', 'a.png'), await gradientPng(40, 40));
  await writeFile(path.join(dir, 'a-file'), 'not a folder');
  await writeFile(path.join(dir, 'not-pem.txt'), 'hello');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function cli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return runCli(entry, args, { env });
}

const good = () => ({
  model: bundle.dir,
  source: { type: 'files', path: path.join(dir, 'frames') },
  sinks: [
    { type: 'jsonl', path: path.join(dir, 'work', 'out', 'results.jsonl') },
    { type: 'mqtt', url: 'mqtt://127.0.0.1:1883', line: 'l1', station: 's1', camera: 'c1', spool: { dir: path.join(dir, 'work', 'spool', 'c1') } },
  ],
  heatmap: { mode: 'defects', dir: path.join(dir, 'work', 'heatmaps') },
  logging: { file: path.join(dir, 'work', 'logs', 'line.log') },
  metrics: { port: 0 },
});

describe('checkRunConfig', () => {
  it('a config that run can start passes, and every file and folder made to try it is gone again', async () => {
    const before = await readdir(dir);
    const report = await checkRunConfig(parseRunConfig(good()));
    expect(report.problems.map((p) => p.message)).toEqual([]);
    expect(report.passed.join('\n')).toMatch(/bundle +tiny .* verified/);
    expect(report.passed.join('\n')).toMatch(/backend +onnxruntime/);
    expect(report.passed).toContain(`folder   sinks.1.spool.dir ${path.join(dir, 'work', 'spool', 'c1')} writable (created for the check, removed again)`);
    expect(report.passed).toContain(`file     logging.file ${path.join(dir, 'work', 'logs', 'line.log')} writable (created for the check, removed again)`);
    expect(await readdir(dir)).toEqual(before);
  });

  it('names every problem run would meet, one line each, and leaves nothing behind', async () => {
    const blocker = path.join(dir, 'a-file');
    const c = good();
    delete process.env.MMAEREC_CHECK_TEST_UNSET;
    const config = parseRunConfig({
      ...c,
      model: badBundle,
      sinks: [
        c.sinks[0],
        {
          type: 'mqtt', url: 'mqtts://127.0.0.1:8883', line: 'l1', station: 's1', camera: 'c1', username: 'u', passwordEnv: 'MMAEREC_CHECK_TEST_UNSET',
          tls: { ca: path.join(dir, 'no-ca.pem') }, topics: { defect: 'plant/#/defect' }, spool: { dir: path.join(blocker, 'spool') },
        },
        { type: 'mqtt', url: 'mqtt://127.0.0.1:1883', line: 'l1', station: 's1', camera: 'c2', tls: undefined, spool: { kind: 'memory' } },
      ],
      logging: { file: path.join(blocker, 'log.json') },
    });
    const before = await readdir(dir);
    const report = await checkRunConfig(config);
    expect(report.problems.map((p) => `${p.code} ${p.message}`)).toEqual([
      `E_BUNDLE ${path.join(badBundle, 'manifest.json')}: scoring.structureWindow: 2 is even; box windows must be odd (e.g. 3): set scoring.structureWindow in manifest.json and recalibrate (mmaerec-edge calibrate), or recreate the bundle`,
      `E_CONFIG logging.file "${path.join(blocker, 'log.json')}" cannot be opened for appending (ENOTDIR: a part of its folder path is a file, not a folder): give a writable file path, or remove logging.file to log to stderr`,
      'E_CONFIG sinks.1.passwordEnv names MMAEREC_CHECK_TEST_UNSET, which is not set in the environment: export it (e.g. in the service unit) or remove passwordEnv',
      'E_CONFIG sinks.1.topics.defect "plant/#/defect" is not a valid topic (wildcards and empty levels are not allowed): use a topic such as "mmaerec/{line}/{station}/defect"',
      `E_CONFIG sinks.1.tls.ca: cannot read "${path.join(dir, 'no-ca.pem')}" (ENOENT): give the path of the broker's CA certificate (PEM)`,
      `E_CONFIG sinks.1.spool.dir "${path.join(blocker, 'spool')}" is not a writable folder (ENOTDIR: a part of the path is a file, not a folder): give a folder this user may create and write (unacknowledged events are kept there)`,
    ]);
    for (const p of report.problems) expect(p.message).not.toContain('\n');
    expect(await readdir(dir)).toEqual(before);
  });

  it('a metrics port in use, a CA that is not PEM, a source with no frames', async () => {
    const server: Server = createServer();
    const port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port)));
    try {
      const c = good();
      const config = parseRunConfig({
        ...c,
        source: { type: 'files', path: path.join(dir, 'frames', '*.jpg') },
        sinks: [{ type: 'mqtt', url: 'mqtts://127.0.0.1:8883', line: 'l', station: 's', camera: 'c', tls: { ca: path.join(dir, 'not-pem.txt') }, spool: { kind: 'memory' } }],
        metrics: { port },
      });
      const report = await checkRunConfig(config, { backend: false });
      expect(report.problems.map((p) => p.message)).toEqual([
        'source.path matches no file now: put frames there, fix the pattern, or set source.watch: true to wait for files',
        `sinks.0.tls.ca: "${path.join(dir, 'not-pem.txt')}" is not a PEM file: give the path of the broker's CA certificate (PEM) in PEM format`,
        `metrics.port ${port} on 127.0.0.1 cannot be bound (EADDRINUSE: another process listens there): give a free port, e.g. 9464, or 0 for any`,
      ]);
    } finally {
      server.close();
    }
  });

  it('the station page: a port in use and an unset token variable; a free one passes with its token', async () => {
    const server: Server = createServer();
    const port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port)));
    delete process.env.MMAEREC_CHECK_PAGE_TOKEN;
    try {
      const bad = await checkRunConfig(parseRunConfig({ ...good(), page: { port, host: '127.0.0.1', tokenEnv: 'MMAEREC_CHECK_PAGE_TOKEN' } }), { backend: false });
      expect(bad.problems.map((p) => p.message)).toEqual([
        'page.tokenEnv names MMAEREC_CHECK_PAGE_TOKEN, which is not set in the environment: export a random token there (e.g. openssl rand -hex 16) or remove tokenEnv',
        `page.port ${port} on 127.0.0.1 cannot be bound (EADDRINUSE: another process listens there): give a free port, e.g. 8080, or 0 for any`,
      ]);
      process.env.MMAEREC_CHECK_PAGE_TOKEN = '0123456789abcdef0123';
      const ok = await checkRunConfig(parseRunConfig({ ...good(), page: { port: 0, tokenEnv: 'MMAEREC_CHECK_PAGE_TOKEN' } }), { backend: false });
      expect(ok.problems).toEqual([]);
      expect(ok.passed).toContain('page     127.0.0.1:0 (any free port), token from MMAEREC_CHECK_PAGE_TOKEN');
    } finally {
      delete process.env.MMAEREC_CHECK_PAGE_TOKEN;
      server.close();
    }
  });
});

describe('mmaerec-edge run --check', () => {
  it('exits 1 with one line per problem where it used to say "valid"', async () => {
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, stringifyYaml({ ...good(), model: badBundle, logging: { file: path.join(dir, 'a-file', 'log.json') } }));
    const r = await cli(['run', '--check', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/valid/);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      `mmaerec-edge: ${file}: ${path.join(badBundle, 'manifest.json')}: scoring.structureWindow: 2 is even; box windows must be odd (e.g. 3): set scoring.structureWindow in manifest.json and recalibrate (mmaerec-edge calibrate), or recreate the bundle`,
      `mmaerec-edge: ${file}: logging.file "${path.join(dir, 'a-file', 'log.json')}" cannot be opened for appending (ENOTDIR: a part of its folder path is a file, not a folder): give a writable file path, or remove logging.file to log to stderr`,
      `mmaerec-edge: ${file}: 2 problems; \`run\` would fail: fix them and check again`,
    ]);
  });

  it('a config the schema refuses: every problem on its own line, then the count; run itself says the first in one line', async () => {
    const file = path.join(dir, 'schema.yaml');
    await writeFile(file, stringifyYaml({ ...good(), metrics: { port: -1, colour: 1 }, heatmap: { mode: 'sometimes' } }));
    const r = await cli(['run', '--check', '--config', file]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    for (const l of lines.slice(0, 3)) expect(l).toMatch(new RegExp(`^mmaerec-edge: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: (metrics|heatmap)`));
    expect(lines[3]).toBe(`mmaerec-edge: ${file}: 3 problems; \`run\` would fail: fix them and check again`);
    const run = await cli(['run', '--config', file]);
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n')).toEqual([`${lines[0]} (and 2 more problems: \`mmaerec-edge run --check\` lists them all)`]);
  });

  it('a good config: one line per check on stdout, then "valid", exit 0', async () => {
    const file = path.join(dir, 'good.yaml');
    await writeFile(file, stringifyYaml(good()));
    const r = await cli(['run', '--check', '--config', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(`${file}: valid (everything but the camera and the broker tried; nothing left behind)`);
    expect(r.stdout).toMatch(/^scoring  (native-cpu|cuda) engine$/m);
  });
});
