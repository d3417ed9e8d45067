import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { percentileOf } from '../../src/demo/run-demo.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

function cli(args: string[]) {
  return run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    timeout: 110_000,
    env: { ...process.env, MMAEREC_LOG_LEVEL: 'warn' },
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

describe('demo', () => {
  it('nearest-rank percentiles', () => {
    expect(percentileOf([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentileOf([5, 1, 3, 2, 4], 99)).toBe(5);
    expect(percentileOf([7], 50)).toBe(7);
  });

  it('runs the main job end to end: defects arrive over MQTT, heatmaps are written, a summary is printed', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'mmaerec-demo-test-'));
    const { code, stdout, stderr } = await cli(['demo', '--out', out]);
    expect(stderr).not.toMatch(/error:/);
    expect(code).toBe(0);
    const eventLines = stdout.split('\n').filter((l) => l.startsWith('mqtt ← '));
    expect(eventLines).toHaveLength(8);
    // Every sample frame that carries a painted defect is reported as one; the good frames are not.
    for (const kind of ['scratch', 'spot', 'crack', 'stain']) {
      expect(eventLines.find((l) => l.includes(`frame ${kind}-1.png`))).toMatch(/DEFECT/);
    }
    expect(eventLines.filter((l) => /frame good-\d\.png {2}ok/.test(l)).length).toBeGreaterThanOrEqual(3);
    expect(stdout).toMatch(/summary {2}frames 8, defects \d+, errors 0; events received over MQTT 8 \(\d+ defect, 0 invalid\)/);
    expect(stdout).toMatch(/latency {2}p50 [\d.]+ ms, p99 [\d.]+ ms per frame on onnxruntime-cpu/);
    // the live station page's address, closed again with the short run
    expect(stdout).toMatch(/^page {5}http:\/\/127\.0\.0\.1:\d+\/ \(live station page; demo --serve keeps it up\)$/m);
    const heatmaps = readdirSync(path.join(out, 'heatmaps'));
    expect(heatmaps.filter((f) => f.endsWith('.png'))).toHaveLength(8);
  });

  it('--serve keeps the station page up after the run, with every frame, until SIGINT', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'demo', '--serve'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const deadline = Date.now() + 100_000;
      while (!/^summary /m.test(stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(stdout).toMatch(/kept up after the run: Ctrl-C ends it/);
      const url = /^page {5}(\S+)/m.exec(stdout)![1]!;
      await new Promise((r) => setTimeout(r, 300)); // still up after the run ended
      const state = (await (await fetch(new URL('/api/state', url))).json()) as { frames: { frameId: string }[]; stats: { totals: { ok: number; defects: number } } };
      expect(state.frames.map((f) => f.frameId).sort()).toHaveLength(8);
      expect(state.stats.totals.ok + state.stats.totals.defects).toBe(8);
      expect(stdout).toMatch(new RegExp(`summary  frames 8, defects ${state.stats.totals.defects},`));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      await expect(fetch(new URL('/api/state', url))).rejects.toThrow();
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);

  it('names the problem and the fix for a frames folder that does not exist', async () => {
    const { code, stderr } = await cli(['demo', '--frames', '/nonexistent/frames']);
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('mmaerec-edge: demo frames folder /nonexistent/frames cannot be read: pass --frames <dir of images>');
  });

  it('refuses a missing bundle with a one-line error', async () => {
    const { code, stderr } = await cli(['demo', '--model', '/nonexistent/bundle']);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/mmaerec-edge: .*\/nonexistent\/bundle/);
    expect(existsSync('/nonexistent/bundle')).toBe(false);
  });
});
