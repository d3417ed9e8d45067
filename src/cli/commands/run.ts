import type { Command } from 'commander';

/** Exit status of a run that finished with events still in the MQTT spool (docs/mqtt.md, "Exit status of run"). */
export const EXIT_UNDELIVERED = 3;

/** `mmaerec-edge run --config line.yaml`: wiring only; the work is in src/pipeline/from-config.ts. */
export function register(program: Command): void {
  program
    .command('run')
    .description('inspect frames from a camera, video or folder continuously and publish the results (YAML/JSON config)')
    .addHelpText('after', `\nExit status: 0 = finished, everything delivered; 1 = records could not be delivered, or the bundle never loaded;\n${EXIT_UNDELIVERED} = finished, but messages (events, heatmap images) are left undelivered in the MQTT spool: the broker never\nacknowledged them, and the next start on the same spool.dir delivers them; 130 = a second signal aborted the run.`)
    .requiredOption('-c, --config <file>', 'run config (YAML or JSON): model, source, roi, thresholds, sinks, heatmap, metrics, logging')
    .option('--check', 'check the config without a camera or a broker (bundle, back end, files, folders, TLS, password, topics, port) and exit')
    .action(async (flags: { config: string; check?: boolean }) => {
      const { loadRunConfig, ConfigProblems } = await import('../../config/load.js');
      let config;
      try {
        config = await loadRunConfig(flags.config);
      } catch (err) {
        // --check lists every schema problem, one line each, then the count (run stops at the first)
        if (!flags.check || !(err instanceof ConfigProblems)) throw err;
        for (const p of err.problems) process.stderr.write(`mmaerec-edge: ${p}\n`);
        process.stderr.write(`mmaerec-edge: ${flags.config}: ${err.problems.length} problem${err.problems.length > 1 ? 's' : ''}; \`run\` would fail: fix ${err.problems.length > 1 ? 'them' : 'it'} and check again\n`);
        process.exitCode = 1;
        return;
      }
      if (flags.check) {
        const { checkRunConfig } = await import('../../config/check.js');
        const report = await checkRunConfig(config);
        for (const line of report.passed) process.stdout.write(`${line}\n`);
        for (const p of report.problems) process.stderr.write(`mmaerec-edge: ${flags.config}: ${p.message}\n`);
        if (report.problems.length) {
          process.stderr.write(`mmaerec-edge: ${flags.config}: ${report.problems.length} problem${report.problems.length > 1 ? 's' : ''}; \`run\` would fail: fix ${report.problems.length > 1 ? 'them' : 'it'} and check again\n`);
          process.exitCode = 1;
          return;
        }
        process.stdout.write(`${flags.config}: valid (everything but the camera and the broker tried; nothing left behind)\n`);
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
        // 1 when records could not be delivered or no frame could be inspected because the bundle never loaded;
        // 3 when the run finished but the broker never acknowledged some events (still in the spool).
        process.exitCode = stats.sinkFailures > 0 || !run.bundleLoaded() ? 1 : stats.undelivered > 0 ? EXIT_UNDELIVERED : 0;
        if (stats.undelivered > 0) {
          process.stderr.write(`mmaerec-edge: run finished with ${stats.undelivered} messages (events, heatmap images) left undelivered in the spool, never acknowledged by the broker: fix the broker connection (see the E_BROKER lines in the log); the next start on the same spool.dir delivers them\n`);
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
