import type { LoadedBundle } from './bundle.js';
import { countComplexity, type Complexity } from './complexity.js';
import { buildNetwork } from './network.js';
import { formatScore } from '../util/format.js';

/** The paper's figures (§ experiments: RTX 4070, 256² input). */
export const PAPER_GMACS = 52.21;
export const PAPER_TRAINABLE_PARAMS = 9.61e6;

export interface BundleInfo extends Complexity {
  dir: string;
  name: string;
  format: string;
  manifestSha256: string;
  input: { width: number; height: number };
  backbone: string;
  backboneWeights: unknown;
  attention: string;
  files: Record<string, { sha256: string; bytes: number }>;
  thresholds: LoadedBundle['manifest']['thresholds'];
  /** Present when the bundle has the paper's topology (WRN50-2 at 256²): the paper's figures beside ours. */
  paper?: { gmacs: number; trainableParams: number; note: string };
}

export function bundleInfo(bundle: LoadedBundle): BundleInfo {
  const c = countComplexity(buildNetwork(bundle.config));
  return {
    dir: bundle.dir,
    name: bundle.manifest.name,
    format: bundle.manifest.format,
    manifestSha256: bundle.sha256,
    input: { width: bundle.manifest.input.width, height: bundle.manifest.input.height },
    backbone: bundle.config.backbone.arch,
    backboneWeights: bundle.manifest.provenance.backbone ?? 'unknown',
    attention: bundle.config.attention,
    ...c,
    files: bundle.manifest.files,
    thresholds: bundle.manifest.thresholds,
    ...(isPaperTopology(bundle)
      ? { paper: { gmacs: PAPER_GMACS, trainableParams: PAPER_TRAINABLE_PARAMS, note: 'docs/architecture.md, Model: Complexity, explains the parameter gap' } }
      : {}),
  };
}

function isPaperTopology(bundle: LoadedBundle): boolean {
  const c = bundle.config;
  return c.inputSize === 256 && c.backbone.arch === 'wide_resnet50_2' && c.backbone.widthDivisor === 1;
}

/** Human-readable lines for `info`. */
export function formatInfo(i: BundleInfo): string {
  const m = (n: number) => `${(n / 1e6).toFixed(2)} M`;
  const lines = [
    `bundle      ${i.dir} (${i.name}, ${i.format})`,
    `manifest    sha256 ${i.manifestSha256}`,
    `input       ${i.input.width}×${i.input.height} RGB`,
    `backbone    ${i.backbone} (${String(i.backboneWeights)}), attention ${i.attention}`,
    `parameters  ${m(i.params)} total, ${m(i.trainableParams)} trainable`,
    `compute     ${i.gmacs.toFixed(2)} GMAC per frame (${Object.entries(i.gmacsByPart).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')})`,
    ...(i.paper ? [`paper       ${i.paper.gmacs} GMac, ${m(i.paper.trainableParams)} trainable parameters (${i.paper.note})`] : []),
    `thresholds  image ${formatScore(i.thresholds.image)}, pixel ${formatScore(i.thresholds.pixel)} (${i.thresholds.source})`,
    ...Object.entries(i.files).map(([name, f]) => `file        ${name}  ${f.bytes} bytes  sha256 ${f.sha256}`),
  ];
  return lines.join('\n') + '\n';
}
