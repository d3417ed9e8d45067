import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { commands } from '../../src/cli/registry.js';
import { registerAll } from '../../src/cli/commands/index.js';
import { heatmapFileName } from '../../src/pipeline/runner.js';
import { formatBox, formatScore } from '../../src/util/format.js';
import { ROOT } from '../helpers/require-tool.js';

// Issue 20, item 3: one grammar across src/cli/commands.

/** Runs main in-process and returns what it wrote to stdout and stderr. */
async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
  try {
    const code = await main(argv);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  }
}

registerAll();
const names = Object.keys(commands).filter((n) => !n.startsWith('test-'));
const DEMO = path.join(ROOT, 'models', 'demo');

describe('one CLI grammar', () => {
  afterEach(() => vi.restoreAllMocks());

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await cli(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it.each(names)('%s --help: defaults as values, required flags marked, the bundle as --model <bundle>', async (name) => {
    const { code, stdout } = await cli([name, '--help']);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(/\(default: "/); // commander's quoted form
    expect(stdout).not.toMatch(/\(default [^:]/); // prose defaults without the colon
    const help = stdout.replace(/\n\s+/g, ' ');
    if (['inspect', 'info', 'eval', 'calibrate', 'build-engine', 'demo'].includes(name)) expect(help).toContain('--model <bundle>');
    expect(help).not.toMatch(/--model <dir>/);
  });

  it('requiredOption flags say (required) in help', async () => {
    const { stdout } = await cli(['eval', '--help']);
    const flat = stdout.replace(/\n\s+/g, ' ');
    expect(flat).toMatch(/--data <dir> +dataset root \(train\/good, test\/good, test\/<defect>, ground_truth\/<defect>\) \(required\)/);
    expect(flat).toMatch(/--mask-resize <rule> .*\(default: nearest\)/);
    const build = (await cli(['build-engine', '--help'])).stdout.replace(/\n\s+/g, ' ');
    expect(build).toMatch(/--model <bundle> +model bundle directory \(manifest\.json, model\.onnx\) \(required\)/);
    expect(build).toContain('(default: 500)');
  });

  it('info: --model and the positional form print the same; twice or never is an error naming the fix', async () => {
    const flag = await cli(['info', '--model', DEMO]);
    const positional = await cli(['info', DEMO]);
    expect(flag.code).toBe(0);
    expect(flag.stdout).toBe(positional.stdout);
    expect(flag.stdout).toMatch(/^thresholds {2}image \d\.\d{4}, pixel \d\.\d{4} \(/m); // not 17 digits
    expect(await cli(['info'])).toMatchObject({ code: 1, stderr: 'mmaerec-edge: info needs a model bundle: pass --model <bundle>\n' });
    expect(await cli(['info', '--model', DEMO, 'elsewhere'])).toMatchObject({
      code: 1,
      stderr: `mmaerec-edge: info: the bundle is given twice (--model ${DEMO} and elsewhere): pass it once, as --model <bundle>\n`,
    });
  });

  it('inspect: the bundle alone is an error naming the fix', async () => {
    expect(await cli(['inspect', DEMO])).toMatchObject({ code: 1, stderr: 'mmaerec-edge: inspect needs image files: pass --model <bundle> <image…>\n' });
  });
});

describe('formats shared by every command', () => {
  it('scores and thresholds: 4 significant digits', () => {
    expect([0.44360238015651704, 0.80855762, 12.3456, 0.0012345678, 0.7, 1e9].map(formatScore)).toEqual(['0.4436', '0.8086', '12.35', '0.001235', '0.7000', '1.000e+9']);
    expect(formatScore(Number.POSITIVE_INFINITY)).toBe('Infinity');
  });

  it('regions: width×height+x+y', () => {
    expect(formatBox({ x: 54, y: 100, width: 48, height: 70 })).toBe('48×70+54+100');
  });

  it('heatmap files: the frame id without its image extension, then .heatmap.<ext>', () => {
    expect(heatmapFileName('crack-1.png', 'png')).toBe('crack-1.heatmap.png');
    expect(heatmapFileName('crack-1.png', 'jpeg')).toBe('crack-1.heatmap.jpg');
    expect(heatmapFileName('cam-000123', 'png')).toBe('cam-000123.heatmap.png');
    expect(heatmapFileName('/data/sub/a b.JPG', 'png')).toBe('__data__sub__a_b.heatmap.png');
  });
});
