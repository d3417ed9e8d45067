import type { Command } from 'commander';

/** `mmaerec-edge run --config line.yaml`: wiring only; the work is in src/pipeline/from-config.ts. */
export function register(program: Command): void {
  program
    .command('run')
    .description('inspect frames from a camera, video or folder continuously and publish the results (YAML/JSON config)')
    .requiredOption('-c, --config <file>', 'run config (YAML or JSON): model, source, roi, thresholds, sinks, heatmap, metrics, logging')
    .option('--check', 'validate the config and exit')
    .action(async (flags: { config: string; check?: boolean }) => {
      const { loadRunConfig } = await import('../../config/load.js');
      const config = await loadRunConfig(flags.config);
      if (flags.check) {
        process.stdout.write(`${flags.config}: valid\n`);
        return;
      }
      const { startRun } = await import('../../pipeline/from-config.js');
      const run = await startRun(config);
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals): void => {
        signals += 1;
        if (signals === 1) {
          run.logger.info({ signal }, 'shutting down: finishing frames in flight and flushing sinks (signal again to abort)');
          run.stop();
        } else {
          run.logger.error({ signal }, 'second signal: exiting without waiting for frames in flight');
          process.exit(130);
        }
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const stats = await run.done;
        // 1 when records could not be delivered or no frame could be inspected because the bundle never loaded.
        process.exitCode = stats.sinkFailures > 0 || !run.bundleLoaded() ? 1 : 0;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
