import type { Command } from 'commander';
import { selectJsonSchemas, writeJsonSchemas } from '../../publish/schema-files.js';

/** `mmaerec-edge schema`: the JSON Schemas of the MQTT events, for subscribers in any language. */
export function register(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schemas (draft 2020-12) of the published events: inspection, error, status, model')
    .option('--event <name>', 'only this event: inspection | error | status | model')
    .option('--out <dir>', 'write one <schema>.schema.json file per event into this directory instead of printing')
    .action(async (flags: { event?: string; out?: string }) => {
      if (flags.out) {
        for (const path of await writeJsonSchemas(flags.out)) process.stdout.write(`${path}\n`);
        return;
      }
      process.stdout.write(JSON.stringify(selectJsonSchemas(flags.event), null, 2) + '\n');
    });
}
