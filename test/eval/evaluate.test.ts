import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { evaluate } from '../../src/eval/evaluate.js';
import { rocAuc } from '../../src/eval/metrics.js';
import { readMask, resizeMask } from '../../src/eval/mask.js';
import { decodeNpy } from './npy-reader.js';
import { pixelMetrics } from '../../src/eval/pixel-metrics.js';
import { syntheticAnalyzer, writeSyntheticDataset } from './synthetic.js';

let dir: string;
let data: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-eval-run-'));
  data = await writeSyntheticDataset(join(dir, 'data'), { unmasked: 1 });
});
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('evaluate', () => {
  test('writes metrics.json, scores.json, labels.json, maps/*.npy and report.html; the files reproduce the metrics', async () => {
    const out = join(dir, 'out');
    const analyzer = syntheticAnalyzer(32);
    const { metrics } = await evaluate({ analyzer, data, out, saveMaps: true, progress: false, gallery: 2 });
    expect(analyzer.calls).toBe(10);
    const m = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    const scores = JSON.parse(await readFile(join(out, 'scores.json'), 'utf8')) as Record<string, number>;
    const labels = JSON.parse(await readFile(join(out, 'labels.json'), 'utf8')) as Record<string, number>;
    expect(Object.keys(scores)).toHaveLength(10);
    expect(labels['good/g0']).toBe(0);
    expect(labels['spot/spot2']).toBe(1);
    expect(m.dataset).toMatchObject({ good: 4, defective: 6, unmaskedDefective: 1, unmasked: ['spot/spot2'], defects: ['scratch', 'spot'] });
    expect(m.protocol.mapSize).toEqual([32, 32]);
    expect(m.notes.join(' ')).toMatch(/1 defective image\(s\) have no mask: scored at image level only \(spot\/spot2\)/);
    // image AUROC recomputed from scores.json + labels.json
    const keys = Object.keys(scores);
    expect(m.overall.imageAuroc).toBeCloseTo(rocAuc(keys.map((k) => scores[k]!), keys.map((k) => labels[k]!)), 12);
    expect(metrics.overall).toEqual(m.overall);
    expect((await readdir(join(out, 'maps'))).sort()).toEqual(['good', 'scratch', 'spot']);
    const map = decodeNpy(new Uint8Array(await readFile(join(out, 'maps/spot/spot0.npy'))));
    expect([map.height, map.width]).toEqual([32, 32]);
    expect(Math.max(...map.data)).toBeCloseTo(scores['spot/spot0']!, 6);
    // the synthetic defects are bright squares: clearly separable at both levels
    expect(m.overall.imageAuroc).toBeGreaterThan(0.8);
    expect(m.overall.pixelAuroc).toBeGreaterThan(0.8);
    expect(m.overall.aupro).toBeGreaterThan(0.3);
    expect(m.perDefect.spot).toMatchObject({ good: 4, defective: 3, unmasked: 1 });
    expect(m.perDefect.scratch.pixels.regions).toBe(3);
    expect(m.threshold.source).toBe('best F1 on this data');
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).not.toMatch(/(src|href)="(https?:|\/\/|file:)/);
    // the gallery: only real misses and false alarms at the threshold (at most 2 each), 4 images apiece
    const t = m.threshold.image as number;
    const imageKeys = Object.keys(scores);
    const missed = imageKeys.filter((k) => labels[k] === 1 && scores[k]! < t).length;
    const falseAlarms = imageKeys.filter((k) => labels[k] === 0 && scores[k]! >= t).length;
    expect(html.match(/<img src="data:image\/png;base64,/g) ?? []).toHaveLength(4 * (Math.min(2, missed) + Math.min(2, falseAlarms)));
    // the table's data: every image, with its panels
    const pageData = JSON.parse(html.split('<script type="application/json" id="report-data">')[1]!.split('</script>')[0]!) as { images: { key: string; score: number; input: string }[] };
    expect(pageData.images.map((i) => i.key).sort()).toEqual(imageKeys.sort());
    for (const i of pageData.images) {
      expect(i.score).toBe(scores[i.key]);
      expect(i.input).toMatch(/^data:image\/webp;base64,/);
    }
  });

  test('pixel metrics recomputed from the saved maps and the ground-truth files match metrics.json', async () => {
    const out = join(dir, 'out2');
    const { metrics } = await evaluate({ analyzer: syntheticAnalyzer(16), data, out, saveMaps: true, progress: false, gallery: 0, maskResize: 'area' });
    const labels = JSON.parse(await readFile(join(out, 'labels.json'), 'utf8')) as Record<string, number>;
    const samples = [];
    for (const key of Object.keys(labels)) {
      const [defect, stem] = key.split('/') as [string, string];
      const map = decodeNpy(new Uint8Array(await readFile(join(out, 'maps', defect, `${stem}.npy`))));
      let mask: Uint8Array = new Uint8Array(map.width * map.height);
      if (labels[key] === 1) {
        const maskPath = join(data, 'ground_truth', defect, `${stem}_mask.png`);
        const raw = await readMask(maskPath).catch(() => undefined);
        if (!raw) continue; // unmasked: image level only
        mask = resizeMask(raw, map.width, map.height, 'area');
      }
      samples.push({ map: map.data, mask, width: map.width, height: map.height });
    }
    const px = pixelMetrics(samples);
    const m = metrics as { overall: { pixelAuroc: number; pixelAp: number; aupro: number } };
    expect(samples).toHaveLength(9);
    expect(m.overall.pixelAuroc).toBe(px.auroc);
    expect(m.overall.pixelAp).toBe(px.ap);
    expect(m.overall.aupro).toBe(px.aupro);
  });

  test('a dataset not in the layout fails before any image is scored', async () => {
    const analyzer = syntheticAnalyzer();
    await expect(evaluate({ analyzer, data: join(dir, 'out'), out: join(dir, 'x'), progress: false })).rejects.toMatchObject({ code: 'E_DATA' });
    expect(analyzer.calls).toBe(0);
  });
});
