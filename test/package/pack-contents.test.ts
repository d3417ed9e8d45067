import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEMO_BUNDLE } from '../../src/demo/run-demo.js';
import { ROOT } from '../helpers/require-tool.js';

// Issue 20, item 2: the tarball holds what a user runs (the CLI, dist/, the demo bundle and frames, docs, the
// native sources for a CUDA/TensorRT build, the prebuilts), nothing else, within a size budget.
interface PackEntry { path: string; size: number }
interface Pack { size: number; unpackedSize: number; entryCount: number; files: PackEntry[] }

const MB = 1_000_000;
// `npm pack --dry-run` runs `prepare` (tsc → dist/), as `npm publish` does, so the list is what would ship.
const pack = (): Pack =>
  (JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--loglevel=error'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 })) as Pack[])[0]!;

describe('npm pack', () => {
  const p = pack();
  const files = new Set(p.files.map((f) => f.path));
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, any>;

  it('ships the entry points package.json names, the demo and the native sources', () => {
    const named = [
      pkg.main, pkg.types, ...Object.values(pkg.bin as Record<string, string>),
      ...Object.values(pkg.exports as Record<string, string | Record<string, string>>).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e))),
      /^node (\S+)$/.exec(pkg.scripts.install)![1], /^node (\S+)$/.exec(pkg.scripts['build:native'])![1],
    ].map((f: string) => f.replace(/^\.\//, ''));
    for (const f of [...named, 'README.md', 'NOTICE', 'binding.gyp', 'scripts/find-tensorrt.mjs', 'dist/cli/main.js', 'native/glue/addon.cc', 'native/core/fused.cc', 'native/cuda/scoring.cu']) {
      expect(files, f).toContain(f);
    }
    // The demo runs models/demo on examples/frames: both ship, whole.
    const demo = path.relative(ROOT, DEFAULT_DEMO_BUNDLE);
    expect(demo).toBe('models/demo');
    for (const dir of [demo, 'examples/frames']) {
      for (const f of readdirSync(path.join(ROOT, dir))) expect(files, `${dir}/${f}`).toContain(`${dir}/${f}`);
    }
  });

  it('ships the docs the README links to', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const linked = [...readme.matchAll(/\]\(((?:docs\/)?[\w.-]+\.md)(?:#[\w-]+)?\)/g)].map((m) => m[1]!);
    expect(linked).toContain('docs/configuration.md');
    for (const f of linked) expect(files, f).toContain(f);
  });

  it('leaves out what a user does not run: maps, tests, sources, bundles the package does not use', () => {
    // the pages' static assets are read at run time from src/ (src/util/package-files.ts): no TypeScript among them
    const runtimeAssets = /^src\/(observe\/station-page\/assets|eval\/report-assets)\/[^/]+\.(html|css|js)$/;
    const unwanted = [...files].filter((f) =>
      /\.map$/.test(f) || (/^(src|test|bench|\.ci|\.cache|build|native\/test)\//.test(f) && !runtimeAssets.test(f)) || /^models\/(?!demo\/|demo\.train\.yaml$|README\.md$)/.test(f) ||
      /^scripts\/(?!install-native\.mjs$|build-native\.mjs$|find-tensorrt\.mjs$)/.test(f));
    expect(unwanted).toEqual([]);
  });

  it('ships the prebuilts that are built, and says where the package lives', () => {
    const built = ['linux-x64', 'linux-arm64'].flatMap((d) =>
      existsSync(path.join(ROOT, 'prebuilds', d)) ? readdirSync(path.join(ROOT, 'prebuilds', d)).map((f) => `prebuilds/${d}/${f}`) : []);
    for (const f of built) expect(files, f).toContain(f);
    for (const field of ['repository', 'homepage', 'bugs']) expect(pkg[field], field).toBeTruthy();
  });

  it('stays within 5 MB packed (whatever prebuilts are there; each under 1 MB)', () => {
    const prebuilt = p.files.filter((f) => f.path.startsWith('prebuilds/'));
    for (const f of prebuilt) expect(f.size, f.path).toBeLessThan(1 * MB);
    expect(p.size).toBeLessThanOrEqual(5 * MB);
    expect(p.unpackedSize - prebuilt.reduce((a, f) => a + f.size, 0)).toBeLessThanOrEqual(6 * MB);
  });
});
