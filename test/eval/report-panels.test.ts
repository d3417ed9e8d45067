import { describe, expect, it } from 'vitest';
import { evalFlagsSchema, parseFlags } from '../../src/eval/cli-options.js';
import { imagePanels } from '../../src/eval/panels.js';
import { panelOrder, reportImages, type KeptPanels } from '../../src/eval/report-panels.js';
import type { ScoredImage } from '../../src/eval/score-dataset.js';

const W = 24;

/** A scored image with a map holding a bright square where it is defective. */
function scored(key: string, label: 0 | 1, score: number): ScoredImage {
  const map = new Float32Array(W * W).map((_, i) => (label && i % W > 12 ? score : 0.05));
  return { image: { key, defect: label ? 'crack' : 'good', stem: key, path: `/x/${key}.png`, label }, score, map, mapWidth: W, mapHeight: W, mask: new Uint8Array(W * W) };
}

// threshold 0.5: one miss (c1 at 0.2), one false alarm (g1 at 0.7)
const SET = [scored('g0', 0, 0.1), scored('g1', 0, 0.7), scored('g2', 0, 0.45), scored('c0', 1, 0.9), scored('c1', 1, 0.2), scored('c2', 1, 0.55)];

async function keptPanels(): Promise<Map<string, KeptPanels>> {
  const kept = new Map<string, KeptPanels>();
  for (const s of SET) {
    const input = new Float32Array(W * W * 3).fill(s.score);
    kept.set(s.image.key, { ...(await imagePanels({ score: s.score, map: s.map, mapWidth: W, mapHeight: W, input, recon: input })), regions: [] });
  }
  return kept;
}

describe('report panels within a budget', () => {
  it('orders misses and false alarms first (worst first), then the others nearest the threshold', () => {
    expect(panelOrder(SET, 0.5).map((s) => s.image.key)).toEqual(['c1', 'g1', 'g2', 'c2', 'g0', 'c0']);
    expect(panelOrder(SET, undefined).map((s) => s.image.key)).toEqual(SET.map((s) => s.image.key));
  });

  it('embeds every image within the budget, as WebP, and says nothing', async () => {
    const { images, note } = await reportImages(SET, await keptPanels(), { threshold: 0.5, range: [0, 1], bytes: 2 ** 20 });
    expect(note).toBeUndefined();
    expect(images.map((i) => i.key)).toEqual(SET.map((s) => s.image.key));
    for (const i of images) for (const uri of [i.input, i.recon, i.heatmap]) expect(uri).toMatch(/^data:image\/webp;base64,/);
  });

  it('past the budget, keeps the panels of the first images in that order, the others with scores only, and says so', async () => {
    const panels = await keptPanels();
    const all = await reportImages(SET, panels, { threshold: 0.5, range: [0, 1], bytes: 2 ** 20 });
    const size = (key: string) => { const i = all.images.find((x) => x.key === key)!; return i.input!.length + i.recon!.length + i.heatmap!.length; };
    // room for the miss and the false alarm, one byte short of the third
    const bytes = size('c1') + size('g1') + size('g2') - 1;
    const { images, note } = await reportImages(SET, panels, { threshold: 0.5, range: [0, 1], bytes });
    expect(images.filter((i) => i.input !== null).map((i) => i.key).sort()).toEqual(['c1', 'g1']);
    const left = images.find((i) => i.key === 'c0')!;
    expect([left.input, left.recon, left.heatmap]).toEqual([null, null, null]);
    expect(left.score).toBe(0.9);
    expect(left.contour).toBe('');
    expect(note).toBe(`report.html shows the panels of 2 of 6 images (its ${Math.ceil(bytes / 1024)} KiB budget for images, misses and false alarms first, then the images nearest the threshold); raise it with eval --report-mib`);
  });

  it('takes the budget from eval --report-mib (16 MiB by default), refusing a negative or non-number one in one line', () => {
    const base = { reference: 'blur', data: 'd', out: 'o' };
    expect(parseFlags(evalFlagsSchema, base, 'eval').reportMib).toBe(16);
    expect(parseFlags(evalFlagsSchema, { ...base, reportMib: '2.5' }, 'eval').reportMib).toBe(2.5);
    expect(() => parseFlags(evalFlagsSchema, { ...base, reportMib: '-1' }, 'eval')).toThrow('eval: --report-mib must be 0 or more (MiB of images report.html embeds): see mmaerec-edge eval --help');
    expect(() => parseFlags(evalFlagsSchema, { ...base, reportMib: 'lots' }, 'eval')).toThrow('eval: --report-mib must be a number: see mmaerec-edge eval --help');
  });
});
