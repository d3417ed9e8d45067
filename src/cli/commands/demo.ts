import type { Command } from 'commander';
import { MmaerecError } from '../../errors.js';
import { modelOption } from '../grammar.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description('run the main job on the embedded demo bundle and sample frames, with an embedded MQTT broker')
    .option('--broker <url>', 'publish to this MQTT broker (MQTT 5) instead of an embedded one')
    .addOption(modelOption('model bundle directory (default: models/demo in the package)', false))
    .option('--frames <dir>', 'folder of frames to inspect (default: examples/frames in the package)')
    .option('--out <dir>', 'folder for heatmaps and the event spool (default: a new temp folder)')
    .option('--timeout <s>', 'seconds to wait for the events to come back over MQTT', '30')
    .option('--serve', 'keep the live station page up after the run (until Ctrl-C)')
    .option('--page-port <port>', 'port of the live station page on 127.0.0.1 (default: any free port)')
    .action(async (o: { broker?: string; model?: string; frames?: string; out?: string; timeout: string; serve?: boolean; pagePort?: string }) => {
      const timeoutS = Number(o.timeout);
      if (!(timeoutS > 0)) throw new MmaerecError('E_CONFIG', `--timeout ${o.timeout} is invalid: give a positive number of seconds`);
      const port = o.pagePort === undefined ? 0 : Number(o.pagePort);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new MmaerecError('E_CONFIG', `--page-port ${o.pagePort} is invalid: give a port 0–65535 (0: any free port)`);
      const { runDemo, formatSummary } = await import('../../demo/run-demo.js');
      const serveUntil = o.serve ? untilSignal() : undefined;
      const summary = await runDemo({ broker: o.broker, bundle: o.model, frames: o.frames, out: o.out, timeoutS, page: { port }, ...(serveUntil ? { serveUntil } : {}) });
      if (!serveUntil) process.stdout.write(formatSummary(summary) + '\n');
      if (summary.eventsReceived < summary.frames) process.exitCode = 1;
    });
}

/** Resolves on the first SIGINT or SIGTERM (then the demo closes its page, sink and broker and exits). */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
