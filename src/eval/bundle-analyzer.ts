import type { InspectorOptions } from '../pipeline/inspector.js';
import type { EvalAnalyzer } from './analyzer.js';

/**
 * The evaluation analyzer over a model bundle: an `Inspector` (src/pipeline/inspector.ts) — the very code
 * that inspects frames on the line — whose `analyze` supplies score, map, input and reconstruction.
 * Imported lazily so that metric-only users never load the inference stack.
 */
export async function openBundleAnalyzer(
  bundleDir: string,
  options: Pick<InspectorOptions, 'backend' | 'threads' | 'device' | 'precision' | 'thresholds' | 'scoring'> = {},
): Promise<EvalAnalyzer> {
  const { Inspector } = await import('../pipeline/inspector.js');
  const inspector = await Inspector.create(bundleDir, options);
  const { manifest, sha256 } = inspector.bundle;
  // With other scoring the bundle's thresholds are on another scale: report no thresholds (eval then uses the
  // best-F1 threshold on the data and says so).
  const overridden = options.scoring !== undefined && Object.keys(options.scoring).length > 0;
  return {
    description: `${manifest.name} (manifest sha256 ${sha256.slice(0, 12)}…, ${inspector.backend.name}${overridden ? `, scoring overridden: ${JSON.stringify(options.scoring)}` : ''})`,
    provenance: {
      bundle: inspector.bundle.dir,
      bundleName: manifest.name,
      bundleSha256: sha256,
      backend: inspector.backend.name,
      inputSize: [manifest.input.width, manifest.input.height],
      scoring: inspector.scoring,
      ...(overridden ? { scoringOverride: options.scoring } : {}),
      ...(inspector.skippedBackends.length ? { skippedBackends: inspector.skippedBackends } : {}),
    },
    ...(overridden ? {} : { thresholds: { ...inspector.thresholds } }),
    async analyze(frame) {
      const a = await inspector.analyze(frame);
      return { score: a.result.score, map: a.map, mapWidth: a.mapWidth, mapHeight: a.mapHeight, input: a.input, recon: a.recon, ...(overridden ? {} : { regions: a.mapRegions }) };
    },
    close: () => inspector.close(),
  };
}
