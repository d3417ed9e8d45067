import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { workerExecArgv } from '../../src/infer/onnxruntime-session.js';
import { ROOT, rootPath, runHostScript } from './host-script.js';

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

  it('runs when the host caps its heap (--max-old-space-size is per process: a worker given it refused to start)', async () => {
    const script = `
      const { createBackend } = await import('./src/infer/registry.ts');
      const { loadBundle } = await import('./src/model/bundle.ts');
      const be = await createBackend(await loadBundle('models/demo'), { backend: 'onnxruntime' });
      console.log(be.name);
      await be.dispose();`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--max-old-space-size=768', '--stack-size=2000', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, timeout: 60_000 });
    expect(stdout.trim()).toBe('onnxruntime-cpu');
    expect(workerExecArgv(['--max-old-space-size=768', '--import', 'tsx', '--stack-size', '2000', '--input-type=module', '--max_semi_space_size=8'])).toEqual(['--import', 'tsx']);
  });

  it('survives a long command line (libonnxruntime parses /proc/self/cmdline recursively at session creation)', async () => {
    // A script file, as the CLI is started (with -e the crash did not reproduce).
    // 800 arguments of 64 characters: like `mmaerec-edge inspect` given a folder of images (SIGSEGV before).
    const args = Array.from({ length: 800 }, (_, k) => `/data/line-1/camera-2/2026-11-26/frames/image-${String(k).padStart(10, '0')}.png`);
    const stdout = await runHostScript(`
      const { createBackend } = await import(${rootPath('src/infer/registry.ts')});
      const { loadBundle } = await import(${rootPath('src/model/bundle.ts')});
      const be = await createBackend(await loadBundle(${rootPath('models/demo')}), { backend: 'onnxruntime' });
      console.log(be.name, process.argv.length);
      await be.dispose();
      export {};`, args);
    expect(stdout.trim()).toBe('onnxruntime-cpu 802');
  });
});
