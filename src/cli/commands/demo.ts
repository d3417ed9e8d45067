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
    .action(async (o: { broker?: string; model?: string; frames?: string; out?: string; timeout: string }) => {
      const timeoutS = Number(o.timeout);
      if (!(timeoutS > 0)) throw new MmaerecError('E_CONFIG', `--timeout ${o.timeout} is invalid: give a positive number of seconds`);
      const { runDemo, formatSummary } = await import('../../demo/run-demo.js');
      const summary = await runDemo({ broker: o.broker, bundle: o.model, frames: o.frames, out: o.out, timeoutS });
      process.stdout.write(formatSummary(summary) + '\n');
      if (summary.eventsReceived < summary.frames) process.exitCode = 1;
    });
}
