import { describe, expect, it } from 'vitest';
import { rootPath, runHostScript } from './host-script.js';

describe('onnxruntime back end dispose', () => {
  it('disposing with runs in flight never aborts the process (it used to terminate the worker inside session.run)', async () => {
    const stdout = await runHostScript(`
      const { createBackend } = await import(${rootPath('src/infer/registry.ts')});
      const { loadBundle } = await import(${rootPath('src/model/bundle.ts')});
      const b = await loadBundle(${rootPath('models/demo')});
      const n = b.manifest.input.width * b.manifest.input.height;
      let rejected = 0;
      for (let i = 0; i < 12; i++) {
        const be = await createBackend(b, { backend: 'onnxruntime' });
        const runs = [0, 1, 2].map(() => be.run({ image: new Float32Array(3 * n).fill(0.5), edge: new Float32Array(n) }).then(() => 0, () => 1));
        if (i % 2) await new Promise((r) => setTimeout(r, 5));
        await be.dispose();
        rejected += (await Promise.all(runs)).reduce((a, v) => a + v, 0);
      }
      console.log('done', rejected > 0);`, [], 90_000);
    // Before the fix: "terminate called after throwing an instance of 'Napi::Error'", SIGABRT (exit 134).
    expect(stdout.trim()).toBe('done true');
  });
});
