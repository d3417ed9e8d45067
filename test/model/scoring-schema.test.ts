import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle, type LoadedBundle } from '../../src/model/bundle.js';
import { MAX_SCORING_WINDOW, scoringSchema } from '../../src/model/manifest.js';
import { BundleGuard } from '../../src/pipeline/bundle-guard.js';
import { resolveScoringOptions } from '../../src/score/fused.js';
import { FakeBackend, gradientPng, tinyBundle } from '../pipeline/helpers.js';

// Issue 15, item 3: one schema for the manifest's scoring and the scorer's options, so that a bundle the scorer
// would refuse is refused when it is loaded (info, run --check, inspect, run), with one E_BUNDLE line.

let dir: string;
let good: LoadedBundle;
let pristine: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-scoring-schema-'));
  good = await tinyBundle(path.join(dir, 'bundle'));
  pristine = await readFile(good.paths.manifest, 'utf8');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Rewrites the bundle's manifest with these scoring keys over its own. */
async function withScoring(scoring: Record<string, unknown>): Promise<string> {
  const m = JSON.parse(pristine);
  m.scoring = { ...m.scoring, ...scoring };
  await writeFile(good.paths.manifest, JSON.stringify(m, null, 2));
  return good.dir;
}

const fix = (field: string) => `: set ${field} in manifest.json and recalibrate (mmaerec-edge calibrate), or recreate the bundle`;

describe('bundle loader: scoring the scorer would refuse is E_BUNDLE, one line naming the field and the fix', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ structureWindow: 2 }, 'scoring.structureWindow: 2 is even; box windows must be odd (e.g. 3)'],
    [{ colorWindow: 1e9 }, `scoring.colorWindow: 1000000000 is above ${MAX_SCORING_WINDOW} (an odd window from 1 to 1023, e.g. 11)`],
    [{ shadingWindow: 16 }, 'scoring.shadingWindow: 16 is even; use 0 (off) or an odd window (e.g. 17)'],
    [{ shadingWindow: 2001 }, 'scoring.shadingWindow: 2001 is above 1023 (0 = off, or an odd window from 1 to 1023, e.g. 17)'],
    // 32² input: 2^(scales-1) must fit, so at most 6 scales.
    [{ scales: 7 }, 'scoring.scales: 7 needs an input of at least 64×64 but the input is 32×32 (at most 6 scales here)'],
  ];
  for (const [scoring, problem] of cases) {
    it(`${JSON.stringify(scoring)}`, async () => {
      const bundle = await withScoring(scoring);
      const field = problem.slice(0, problem.indexOf(':'));
      const err = await loadBundle(bundle).then(() => undefined, (e: unknown) => e as { code: string; message: string });
      expect(err).toMatchObject({ code: 'E_BUNDLE', message: `${good.paths.manifest}: ${problem}${fix(field)}` });
      expect(err!.message).not.toContain('\n');
    });
  }

  it('the bundle as written still loads', async () => {
    await writeFile(good.paths.manifest, pristine);
    await expect(loadBundle(good.dir)).resolves.toMatchObject({ manifest: { scoring: { structureWindow: 21, colorWindow: 11, shadingWindow: 0 } } });
  });
});

describe('the scorer takes exactly what the manifest schema takes', () => {
  it('resolveScoringOptions refuses a window above the bound with a RangeError naming it', () => {
    expect(() => resolveScoringOptions({ colorWindow: 1e9 })).toThrow(new RangeError('Invalid scoring option colorWindow: 1000000000 is above 1023 (an odd window from 1 to 1023, e.g. 11)'));
    expect(() => resolveScoringOptions({ structureWindow: 1025 })).toThrow(RangeError);
    expect(resolveScoringOptions({ structureWindow: 1023, colorWindow: 1, shadingWindow: 1023 })).toMatchObject({ structureWindow: 1023, colorWindow: 1, shadingWindow: 1023 });
  });

  it('every window the schema accepts, the scorer accepts, and the other way round', () => {
    for (const w of [0, 1, 2, 3, 16, 17, 1023, 1024, 1025, -1, 1.5, 1e9]) {
      for (const key of ['structureWindow', 'colorWindow', 'shadingWindow'] as const) {
        const schemaOk = scoringSchema.safeParse({ [key]: w }).success;
        let scorerOk = true;
        try {
          resolveScoringOptions({ [key]: w });
        } catch {
          scorerOk = false;
        }
        expect(scorerOk, `${key} ${w}`).toBe(schemaOk);
        expect(schemaOk, `${key} ${w}`).toBe(w === 0 ? key === 'shadingWindow' : Number.isInteger(w) && w >= 1 && w <= 1023 && w % 2 === 1);
      }
    }
  });
});

describe('run with onBundleError: report', () => {
  it('a bundle with an even structureWindow gives E_BUNDLE records, not a RangeError', async () => {
    const bundle = await withScoring({ structureWindow: 2 });
    const guard = await BundleGuard.create(bundle, { inferenceBackend: new FakeBackend(32, 32) }, { retryS: 3600 });
    try {
      expect(guard.current).toBeUndefined();
      const record = await guard.inspectRecord({ id: 'f1', capturedAt: 1, image: await gradientPng(32, 32) });
      expect(record).toMatchObject({ kind: 'error', frameId: 'f1', code: 'E_BUNDLE' });
      expect((record as { message: string }).message).toBe(`not inspected: ${good.paths.manifest}: scoring.structureWindow: 2 is even; box windows must be odd (e.g. 3)${fix('scoring.structureWindow')}`);
    } finally {
      await guard.close();
      await writeFile(good.paths.manifest, pristine);
    }
  });
});
