import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Frame } from '../../src/capture/frame.js';
import type { ModelEventBody } from '../../src/publish/events.js';
import { ModelSwitch } from '../../src/pipeline/model-switch.js';
import { parseSwapCommand, watchBundles } from '../../src/pipeline/swap-triggers.js';
import type { SwapRequest } from '../../src/pipeline/model-switch.js';
import { gradientPng, tinyBundle } from './helpers.js';

const sha = 'a'.repeat(64);

describe('ModelSwitch refusals: the model in service keeps running', () => {
  let dir: string;
  let frame: Frame;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mmaerec-switch-'));
    await tinyBundle(join(dir, 'v1'), { image: 1e9, pixel: 0.5, source: 'test' }); // every frame ok
    // Same network, thresholds that make every frame a defect: a shadow comparison must catch it.
    await tinyBundle(join(dir, 'strict'), { image: -1, pixel: 0.5, source: 'test' });
    frame = { id: 'f', capturedAt: Date.now(), image: await gradientPng(32, 32) };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a wrong sha256, a shadow disagreement and a missing folder are refused with one-line reasons', async () => {
    const announced: ModelEventBody[] = [];
    const models = await ModelSwitch.start(join(dir, 'v1'), { cameras: [{ id: 'cam' }], serve: { threads: 1 }, shadowFrames: 3, minAgreement: 1, announce: (e) => void announced.push(e) });
    try {
      const lane = models.lane('cam');
      for (let i = 0; i < 3; i++) expect(await lane.inspectRecord({ ...frame, id: `f${i}` })).toMatchObject({ kind: 'inspection', verdict: 'ok' });
      const v1 = models.current!.provenance.bundleSha256;

      const wrong = await models.propose({ path: join(dir, 'v1'), sha256: sha, trigger: 'command' });
      expect(wrong).toMatchObject({ outcome: 'refused', inService: { bundleSha256: v1 } });
      expect(wrong.reason).toMatch(/manifest\.json has sha256 [0-9a-f]{64}, not the a{64} the command named: send the sha256/);

      const strict = await models.propose({ path: join(dir, 'strict'), trigger: 'watch' });
      expect(strict.outcome).toBe('refused');
      expect(strict.reason).toMatch(/shadow comparison: the candidate agreed with the model in service on 0 of 3 recent frames \(0\.0 %, below swap\.minAgreement 1\)/);

      const missing = await models.propose({ path: join(dir, 'nowhere'), trigger: 'watch' });
      expect(missing).toMatchObject({ outcome: 'refused', candidate: { path: join(dir, 'nowhere') } });
      expect(missing.reason).toMatch(/nowhere/);

      expect(models.current!.provenance.bundleSha256).toBe(v1);
      expect(await lane.inspectRecord({ ...frame, id: 'after' })).toMatchObject({ kind: 'inspection', model: { bundleSha256: v1 } });
      expect(announced.map((e) => e.outcome)).toEqual(['refused', 'refused', 'refused']);
    } finally {
      await models.close();
    }
  }, 60_000);
});

describe('ModelSwitch swap before any frame', () => {
  test('the warm-up uses a grey frame that holds the camera ROI, and the candidate serves the next frame', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmaerec-switch-roi-'));
    try {
      const v1 = await tinyBundle(join(dir, 'v1'));
      const v2 = await tinyBundle(join(dir, 'v2'), { image: 0.4, pixel: 0.4, source: 'test' });
      const roi = { x: 100, y: 50, width: 64, height: 48 };
      const models = await ModelSwitch.start(join(dir, 'v1'), { cameras: [{ id: 'cam', roi }], serve: { threads: 1 } });
      try {
        expect(await models.propose({ path: join(dir, 'v2'), sha256: v2.sha256, trigger: 'command' })).toMatchObject({ outcome: 'swapped', inService: { bundleSha256: v2.sha256 } });
        expect(v2.sha256).not.toBe(v1.sha256);
        const png = await gradientPng(200, 120);
        expect(await models.lane('cam').inspectRecord({ id: 'f', capturedAt: Date.now(), image: png })).toMatchObject({ kind: 'inspection', imageThreshold: 0.4, model: { bundleSha256: v2.sha256 } });
      } finally {
        await models.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('swap commands on MQTT', () => {
  test.each([
    ['not json', /swap command is not JSON: send \{"path"/],
    [JSON.stringify({ path: 'models/v2', sha256: sha }), /swap command: path is not an absolute path: name the bundle folder on the device/],
    [JSON.stringify({ path: '/m/v2', sha256: 'xyz' }), /swap command: sha256 is not a sha256 \(64 hex digits\)/],
    [JSON.stringify({ path: '/m/v2' }), /swap command: sha256 is missing or not a string/],
    [JSON.stringify({ path: '/m/v2', sha256: sha, force: true }), /swap command: the command has unknown key "force": send only path and sha256/],
  ])('%s is refused with one line naming the problem and the fix', (payload, reason) => {
    const r = parseSwapCommand(Buffer.from(payload));
    expect('refused' in r && r.refused.reason).toMatch(reason);
  });

  test('a well-formed command becomes a request', () => {
    expect(parseSwapCommand(Buffer.from(JSON.stringify({ path: '/m/v2', sha256: sha.toUpperCase() })))).toEqual({ request: { path: '/m/v2', sha256: sha.toUpperCase(), trigger: 'command' } });
  });
});

describe('watchBundles', () => {
  test('proposes a bundle folder once its manifest.json is there; folders present at start are not proposed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmaerec-watch-'));
    try {
      await tinyBundle(join(dir, 'old'));
      const seen: SwapRequest[] = [];
      const w = watchBundles(dir, 20, (r) => seen.push(r));
      await w.scanned;
      mkdirSync(join(dir, 'copying')); // no manifest yet: not a bundle
      await new Promise((r) => setTimeout(r, 100));
      expect(seen).toEqual([]);
      await tinyBundle(join(dir, 'new'));
      const deadline = Date.now() + 5000;
      while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100));
      w.stop();
      expect(seen).toEqual([{ path: join(dir, 'new'), trigger: 'watch' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
