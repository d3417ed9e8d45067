import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ScoredImage } from './score-dataset.js';
import type { Summary } from './summarize.js';

/**
 * Runs `summarize` (sorting tens of millions of map values: seconds) in a worker thread, so that a host
 * application calling `evaluate` keeps its event loop (and the progress bar keeps its terminal) responsive.
 * The worker source uses only dynamic import(), so it runs whether Node evaluates it as CommonJS or as a
 * module (a parent started with --input-type=module passes that on). It imports this package's own summarize module: the compiled .js from dist/, or the .ts source when
 * running from source (then through tsx's loader, registered in the worker; tsx is a dev dependency).
 */
const WORKER_SOURCE = `
import('node:worker_threads').then(async ({ parentPort, workerData }) => {
  try {
    if (workerData.tsx) (await import(workerData.tsx)).register();
    const m = await import(workerData.url);
    parentPort.postMessage({ ok: m.summarize(workerData.scored, workerData.defects, workerData.fprLimit) });
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.stack) || err) });
  }
});
`;

/** file: URL of tsx's ESM register API (its package exports map the CommonJS entry; the ESM one sits beside it). */
function tsxEsmApi(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
}

export function summarizeOffThread(scored: ScoredImage[], defects: string[], fprLimit: number): Promise<Summary> {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(`./summarize.${fromSource ? 'ts' : 'js'}`, import.meta.url).href;
  // only what the metrics need crosses over (maps and masks are copied once)
  const slim = scored.map((s) => ({ image: s.image, score: s.score, map: s.map, mapWidth: s.mapWidth, mapHeight: s.mapHeight, ...(s.mask ? { mask: s.mask } : {}) }));
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { url, scored: slim, defects, fprLimit, tsx: fromSource ? tsxEsmApi() : undefined },
    });
    worker.once('message', (msg: { ok?: Summary; error?: string }) => {
      void worker.terminate();
      if (msg.ok) resolve(msg.ok);
      else reject(new Error(`metrics worker failed: ${msg.error}`));
    });
    worker.once('error', reject);
    // a worker that exits without a reply (out of memory, process.exit) would otherwise leave evaluate pending
    worker.once('exit', (code) => reject(new Error(`metrics worker exited (code ${code}) before replying: rerun with fewer images (--limit) or more memory`)));
  });
}
