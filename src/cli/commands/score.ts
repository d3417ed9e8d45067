import type { Command } from 'commander';
import sharp from 'sharp';
import { MmaerecError } from '../../errors.js';
import { scoreFiles } from '../../score/score-files.js';
import { formatScore } from '../../util/format.js';

interface ScoreFlags {
  out?: string;
  scales?: string;
  mu?: string;
  border?: string;
  shadingWindow?: string;
  json?: boolean;
}

type ScoreOptions = { scales?: number; mu?: number; border?: 'valid' | 'zero'; shadingWindow?: number; out?: string };

function parseFlags(flags: ScoreFlags): ScoreOptions {
  const out: ScoreOptions = { out: flags.out };
  if (flags.scales !== undefined) {
    const n = Number(flags.scales);
    if (!Number.isInteger(n) || n < 1 || n > 8) throw new MmaerecError('E_CONFIG', `--scales ${flags.scales} is invalid: give an integer from 1 to 8`);
    out.scales = n;
  }
  if (flags.mu !== undefined) {
    const mu = Number(flags.mu);
    if (!Number.isFinite(mu) || mu < 0 || flags.mu.trim() === '') throw new MmaerecError('E_CONFIG', `--mu ${flags.mu} is invalid: give a number ≥ 0 (default 0.001)`);
    out.mu = mu;
  }
  if (flags.border !== undefined) {
    if (flags.border !== 'valid' && flags.border !== 'zero') throw new MmaerecError('E_CONFIG', `--border ${flags.border} is invalid: give valid or zero`);
    out.border = flags.border;
  }
  if (flags.shadingWindow !== undefined) {
    const k = Number(flags.shadingWindow);
    if (!Number.isInteger(k) || k < 0 || (k > 0 && k % 2 === 0)) {
      throw new MmaerecError('E_CONFIG', `--shading-window ${flags.shadingWindow} is invalid: give 0 (off) or an odd number of pixels, e.g. 17`);
    }
    out.shadingWindow = k;
  }
  return out;
}

/** `mmaerec-edge score <input> <recon>`: the fused anomaly map and image score of two images (method.md §6). */
export function register(program: Command): void {
  program
    .command('score')
    .description('fused anomaly score of a reconstruction against its input image; optional map as .npy')
    .argument('<input-image>', 'the input image (PNG, JPEG, …; gray is promoted to RGB)')
    .argument('<reconstruction-image>', 'the reconstruction, same size')
    .option('--out <file>', 'write the fused map as float32 .npy (H×W)')
    .option('--scales <n>', 'MSGMS scales (default: 4)')
    .option('--mu <x>', 'weight of the colour term (default: 0.001)')
    .option('--border <rule>', 'box-filter borders: valid | zero (default: valid)')
    .option('--shading-window <px>', 'odd box window: lighting/shading broader than ≈ px/2 is not scored; 0 is off (default: 0)')
    .option('--json', 'print {"score","width","height"} as JSON')
    .action(async (inputPath: string, reconPath: string, flags: ScoreFlags) => {
      // One-shot process: libvips' operation cache (up to 50 MB of decoded pixels) would only add to the peak.
      sharp.cache(false);
      const r = await scoreFiles(inputPath, reconPath, parseFlags(flags));
      if (flags.json) {
        process.stdout.write(JSON.stringify({ score: r.score, width: r.width, height: r.height }) + '\n');
      } else {
        process.stdout.write(`score ${formatScore(r.score)} (${r.width}×${r.height})${flags.out ? `, map written to ${flags.out}` : ''}\n`);
      }
    });
}
