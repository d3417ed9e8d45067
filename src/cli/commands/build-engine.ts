import { rmSync } from 'node:fs';
import type { Command } from 'commander';
import { buildEngine, temporaryBuildFiles } from '../../engine/build.js';
import { parseBuildEngineOptions } from '../../engine/options.js';
import { BuildProgress } from '../../engine/progress.js';
import { ProgressLine } from '../../util/progress.js';
import { modelOption } from '../grammar.js';

/** `mmaerec-edge build-engine`: wiring only; the work is in src/engine/build.ts. */
export function register(program: Command): void {
  program
    .command('build-engine')
    .description('build a TensorRT engine for this GPU from a model bundle (run it on the Jetson itself; takes minutes)')
    .addOption(modelOption())
    .option('--fp16', 'allow FP16 kernels (TensorRT 10; recommended on Jetson)')
    .option('--int8', 'INT8 with entropy calibration (TensorRT 10; needs --calib)')
    .option('--calib <dir>', 'folder of good images for INT8 calibration')
    .option('--calib-limit <n>', 'use at most n calibration images', '500')
    .option('--workspace <MiB>', 'builder workspace memory in MiB', '1024')
    .option('--out <file>', 'engine file; metadata goes to <file>.json (default: <bundle>/engine.plan)')
    .option('--device <index>', 'CUDA device index', '0')
    .option('--max-batch <n>', 'frames of several cameras per inference: an optimisation profile min 1 / opt n / max n (backend.maxBatch of a cell)', '1')
    .action(async (flags: Record<string, unknown>) => {
      const { planPath } = parseBuildEngineOptions(flags); // flag errors first, before anything is started
      const progress = new BuildProgress();
      // On a terminal: one line redrawn in place (and every second, for the clock). In a log (systemd, CI): a
      // line per change of phase only.
      const out = new ProgressLine(process.stderr);
      let lastPhaseLine = '';
      const draw = (phaseChanged: boolean) => {
        const line = progress.line();
        out.show(line, phaseChanged && line !== lastPhaseLine);
        if (phaseChanged) lastPhaseLine = line;
      };
      const ticker = out.tty ? setInterval(() => draw(false), 1000) : undefined;
      // Ctrl-C during a build of several minutes: the native build thread cannot be unwound, so exit, but leave
      // no half-written plan or calibration file behind (the finished plan is only renamed into place at the end).
      const onInterrupt = () => {
        for (const f of temporaryBuildFiles(planPath)) rmSync(f, { force: true });
        out.message('build-engine: interrupted; no engine was written');
        process.exit(130);
      };
      try {
        process.once('SIGINT', onInterrupt);
        const built = await buildEngine(flags, {
          onProgress: (event) => {
            if (progress.update(event)) draw(event.kind === 'stage' || event.kind === 'phase-start');
          },
        });
        out.done();
        const m = built.metadata;
        for (const w of progress.warnings.slice(-5)) process.stderr.write(`TensorRT warning: ${w}\n`);
        process.stdout.write(
          `engine ${built.planPath} (${(m.plan.bytes / 1048576).toFixed(1)} MiB, ${m.precision}, TensorRT ${m.tensorrt.version}, ` +
            `${m.gpu.name} sm_${m.gpu.computeCapability.replace('.', '')}, ${m.buildSeconds} s)` +
            (m.batch.max > 1 ? `; batch 1..${m.batch.max} per inference (tuned for ${m.batch.opt})` : '') +
            (m.calibration ? `; INT8 calibration on ${m.calibration.images} images${m.calibration.cacheHit ? ' (cache reused)' : ''}` : '') +
            `\nmetadata ${built.metadataPath}\n`,
        );
      } catch (err) {
        out.done(); // the error line must not land on the redrawn progress line
        throw err;
      } finally {
        if (ticker) clearInterval(ticker);
        process.removeListener('SIGINT', onInterrupt);
      }
    });
}
