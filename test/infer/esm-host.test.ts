import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('onnxruntime back end in an ESM host', () => {
  it('runs when the host process was started with --input-type=module (the flag is not passed to its worker)', async () => {
    const script = `
      const { createBackend } = await import('./src/infer/registry.ts');
      const { loadBundle } = await import('./src/model/bundle.ts');
      const b = await loadBundle('models/demo');
      const be = await createBackend(b, { backend: 'onnxruntime' });
      const n = b.manifest.input.width * b.manifest.input.height;
      const r = await be.run({ image: new Float32Array(3 * n).fill(0.5), edge: new Float32Array(n) });
      console.log(JSON.stringify({ name: be.name, length: r.length, finite: r.every(Number.isFinite) }));
      await be.dispose();`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, timeout: 60_000 });
    expect(JSON.parse(stdout.trim())).toEqual({ name: 'onnxruntime-cpu', length: 3 * 96 * 96, finite: true });
  });
});
