import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('onnxruntime back end dispose', () => {
  it('disposing with runs in flight never aborts the process (it used to terminate the worker inside session.run)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mmaerec-dispose-'));
    const file = path.join(dir, 'host.mts');
    writeFileSync(file, `
      const { createBackend } = await import(${JSON.stringify(path.join(ROOT, 'src/infer/registry.ts'))});
      const { loadBundle } = await import(${JSON.stringify(path.join(ROOT, 'src/model/bundle.ts'))});
      const b = await loadBundle(${JSON.stringify(path.join(ROOT, 'models/demo'))});
      const n = b.manifest.input.width * b.manifest.input.height;
      let rejected = 0;
      for (let i = 0; i < 12; i++) {
        const be = await createBackend(b, { backend: 'onnxruntime' });
        const runs = [0, 1, 2].map(() => be.run({ image: new Float32Array(3 * n).fill(0.5), edge: new Float32Array(n) }).then(() => 0, () => 1));
        if (i % 2) await new Promise((r) => setTimeout(r, 5));
        await be.dispose();
        rejected += (await Promise.all(runs)).reduce((a, v) => a + v, 0);
      }
      console.log('done', rejected > 0);`);
    try {
      // Before the fix: "terminate called after throwing an instance of 'Napi::Error'", SIGABRT (exit 134).
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, timeout: 90_000 });
      expect(stdout.trim()).toBe('done true');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
