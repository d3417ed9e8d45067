/**
 * The worker thread that owns an onnxruntime-node session (see onnxruntime.ts for why). It is plain
 * JavaScript evaluated by `new Worker(source, { eval: true })`, so it runs the same under tsx, vitest and the
 * compiled package; onnxruntime-node is loaded by the absolute path the parent resolved.
 */
export type WorkerReply =
  | { type: 'ready'; index: number; failures: string[] }
  | { type: 'failed'; failures: string[] }
  | { type: 'result'; id: number; recon?: Float32Array; featureDistance?: Float32Array; error?: string };

export const ORT_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
const firstLine = (e) => String((e && e.message) || e).split('\\n')[0];
(async () => {
  const failures = [];
  let session;
  let index = -1;
  for (let i = 0; i < workerData.attempts.length && !session; i++) {
    try {
      session = await ort.InferenceSession.create(workerData.onnxBytes || workerData.onnxPath, workerData.attempts[i]);
      index = i;
    } catch (e) {
      failures.push(workerData.attempts[i].executionProviders.join(',') + ': ' + firstLine(e));
    }
  }
  if (!session) {
    parentPort.postMessage({ type: 'failed', failures });
    return;
  }
  // Messages are handled one at a time, so 'close' never releases the session under a run.
  let chain = Promise.resolve();
  parentPort.on('message', (msg) => {
    chain = chain.then(() => (msg.type === 'close' ? close() : msg.type === 'run' ? runOne(msg) : undefined));
  });
  // Exit by ourselves: a terminate() from outside during session.run aborts the whole process.
  async function close() {
    try {
      await session.release();
    } finally {
      parentPort.close();
    }
  }
  // msg.batch frames, stacked along the batch dimension (a model with a symbolic batch; see onnx-batch.ts).
  async function runOne(msg) {
    try {
      const n = msg.batch || 1;
      // A graph pruned to the feature bank (prune-onnx.ts) reads the image only.
      const feeds = { image: new ort.Tensor('float32', msg.image, [n, 3, msg.height, msg.width]) };
      if (session.inputNames.includes('edge')) feeds.edge = new ort.Tensor('float32', msg.edge, [n, 1, msg.height, msg.width]);
      const out = await session.run(feeds);
      const recon = out.recon ? new Float32Array(out.recon.data) : undefined;
      const featureDistance = out.featureDistance ? new Float32Array(out.featureDistance.data) : undefined;
      const transfer = [recon, featureDistance].filter(Boolean).map((a) => a.buffer);
      parentPort.postMessage({ type: 'result', id: msg.id, recon, featureDistance }, transfer);
    } catch (e) {
      parentPort.postMessage({ type: 'result', id: msg.id, error: firstLine(e) });
    }
  }
  parentPort.postMessage({ type: 'ready', index, failures });
})();
`;
